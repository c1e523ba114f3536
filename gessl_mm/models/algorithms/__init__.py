from .gessl import GeSSL

__all__ = ['GeSSL']
