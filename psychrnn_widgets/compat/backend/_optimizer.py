"""TensorFlow 1's Adam update, the default optimiser of PsychRNN's ``train``.

Per variable, with ``t`` the update count and the step size
``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``::

    m <- m + (g - m) (1 - beta1)
    v <- v + (g^2 - v) (1 - beta2)
    w <- w - lr_t m / (sqrt(v) + epsilon)

Epsilon sits outside the bias correction, unlike the Adam of the original paper and PyTorch.
Each step runs ResourceApplyAdam, the kernel of tf.compat.v1.train.AdamOptimizer, so the results
match it bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

__all__ = ["TF1Adam"]


class TF1Adam:
    """Adam with TensorFlow 1's epsilon placement and the moment slots PsychRNN saves.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1, beta2 : float, default 0.9 and 0.999
    epsilon : float, default 1e-8
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.built = False
        self.slots: dict[str, tuple[tf.Variable, tf.Variable]] = {}
        # Names of variables that never receive a gradient; their slots are not reported.
        self.unused: set[str] = set()

    def build(self, variables: Sequence[tf.Variable], names: Sequence[str]) -> None:
        """Create the first and second moment slots (zeros) of ``variables``, keyed by ``names``."""
        self._variables = list(variables)
        self._moments = [
            (
                tf.Variable(tf.zeros_like(v), trainable=False),
                tf.Variable(tf.zeros_like(v), trainable=False),
            )
            for v in self._variables
        ]
        self.slots = dict(zip(names, self._moments))
        self._beta1_power = tf.Variable(self.beta1, dtype=tf.float32, trainable=False)
        self._beta2_power = tf.Variable(self.beta2, dtype=tf.float32, trainable=False)
        self.built = True

    def apply(
        self, gradients: Sequence[tf.Tensor | None], variables: Sequence[tf.Variable]
    ) -> None:
        """Take one Adam step; a None gradient leaves its variable and moments unchanged."""
        by_id = {id(v): moments for v, moments in zip(self._variables, self._moments)}
        for gradient, variable in zip(gradients, variables):
            if gradient is None:
                continue
            m, v = by_id[id(variable)]
            # The kernel TensorFlow 1's AdamOptimizer runs, so results match it bit for bit.
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle,
                m=m.handle,
                v=v.handle,
                beta1_power=tf.cast(self._beta1_power, variable.dtype),
                beta2_power=tf.cast(self._beta2_power, variable.dtype),
                lr=tf.constant(self.learning_rate, variable.dtype),
                beta1=tf.constant(self.beta1, variable.dtype),
                beta2=tf.constant(self.beta2, variable.dtype),
                epsilon=tf.constant(self.epsilon, variable.dtype),
                grad=tf.convert_to_tensor(gradient, variable.dtype),
            )
        self._beta1_power.assign(self._beta1_power * self.beta1)
        self._beta2_power.assign(self._beta2_power * self.beta2)
