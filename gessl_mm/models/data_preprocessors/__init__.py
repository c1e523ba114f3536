from .task_data_preprocessor import SSLTask, TaskDataPreprocessor

__all__ = ['SSLTask', 'TaskDataPreprocessor']
