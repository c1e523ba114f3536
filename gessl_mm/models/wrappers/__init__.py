from .gessl_distributed_wrapper import GeSSLDistributedWrapper

__all__ = ['GeSSLDistributedWrapper']
