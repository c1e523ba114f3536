from .digits import SklearnDigits, digits_split

__all__ = ['SklearnDigits', 'digits_split']
