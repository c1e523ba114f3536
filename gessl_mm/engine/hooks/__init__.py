from .knn_eval_hook import FeatureEvalHook

__all__ = ['FeatureEvalHook']
