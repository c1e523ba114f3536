"""DINO's self-distillation loss with a centred, sharpened teacher."""
import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class DINOLoss(BaseModule):
    """Cross-entropy between teacher and student distributions (Caron et al. 2021).

    The teacher distribution of view ``g`` is ``softmax((t_g - center) / teacher_temp)``,
    the student's of view ``v`` is ``softmax(s_v / student_temp)``; the loss averages
    ``H(teacher_g, student_v)`` over every pair of different views (``v != g``; the teacher
    views are the first student views) and over the batch. After the loss, ``center``
    moves towards the teacher outputs' batch mean (averaged over all processes):
    ``center = center_momentum * center + (1 - center_momentum) * mean``.

    Args:
        out_channels: size of the outputs (number of prototypes).
        teacher_temp: teacher temperature (sharpening).
        student_temp: student temperature.
        center_momentum: momentum of the center's moving average.
        loss_weight: weight of the loss.
    """

    def __init__(self,
                 out_channels: int,
                 teacher_temp: float = 0.04,
                 student_temp: float = 0.1,
                 center_momentum: float = 0.9,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.teacher_temp = teacher_temp
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.loss_weight = loss_weight
        self.register_buffer('center', torch.zeros(1, out_channels))

    def forward(self, student: Tensor, teacher: Tensor, update_center: bool = True) -> Tensor:
        """The loss, then the center update.

        Args:
            student: student outputs of every view, (V, N, C).
            teacher: teacher outputs of the first G <= V views, (G, N, C).
            update_center: move the center (False leaves it as it is).

        Returns:
            Tensor: the scalar loss.
        """
        num_views, num_teacher = student.shape[0], teacher.shape[0]
        if student.dim() != 3 or teacher.shape[1:] != student.shape[1:] or \
                not 0 < num_teacher <= num_views or num_views < 2:
            raise ValueError('DINOLoss expects student (V, N, C) and teacher (G, N, C) with '
                             f'1 <= G <= V and V >= 2, got {tuple(student.shape)} and '
                             f'{tuple(teacher.shape)}')
        teacher = teacher.detach()
        targets = F.softmax((teacher - self.center) / self.teacher_temp, dim=-1)
        log_probs = F.log_softmax(student / self.student_temp, dim=-1)
        terms = [(-targets[g] * log_probs[v]).sum(-1).mean()
                 for g in range(num_teacher) for v in range(num_views) if v != g]
        loss = self.loss_weight * torch.stack(terms).mean()
        if update_center:
            self.update_center(teacher)
        return loss

    @torch.no_grad()
    def update_center(self, teacher: Tensor) -> None:
        """Move ``center`` towards the batch mean of ``teacher`` (..., C)."""
        batch_center = teacher.reshape(-1, teacher.shape[-1]).mean(0, keepdim=True)
        batch_center = batch_center.to(self.center.dtype)
        all_reduce(batch_center, op='mean')
        self.center.mul_(self.center_momentum).add_(batch_center,
                                                    alpha=1 - self.center_momentum)
