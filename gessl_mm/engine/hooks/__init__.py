from .feature_eval_hook import FeatureEvalHook
from .random_state_hook import RandomStateHook

__all__ = ['FeatureEvalHook', 'RandomStateHook']
