from .base_adapter import SSL_ADAPTERS, SSLAdapter, build_adapter
from .dino_adapter import DINOAdapter
from .mae_adapter import MAEAdapter
from .queue_adapter import QueueAdapter
from .swav_adapter import SwAVAdapter

__all__ = ['SSL_ADAPTERS', 'SSLAdapter', 'build_adapter', 'DINOAdapter', 'MAEAdapter',
           'QueueAdapter', 'SwAVAdapter']
