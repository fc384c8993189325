"""PsychRNN's training loop over the compat models, with TensorFlow 1's Adam update.

Loop rules (PsychRNN's main branch): one batch is drawn first only to read the batch size; then
each update draws one batch, until ``(update - 1) * batch_size >= training_iters``, i.e.
``ceil(training_iters / batch_size)`` updates. Every ``loss_epoch`` updates the loss is
re-evaluated on the same batch after the update and recorded. Curriculum checks and
``performance_measure`` each draw an extra batch.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from inspect import isgenerator
from typing import Any

import numpy as np
import tensorflow as tf

from psychrnn_widgets.compat.backend._errors import CompatUsageError
from psychrnn_widgets.compat.backend._optimizer import TF1Adam

__all__ = ["compiled_forward", "compiled_loss", "train", "train_curriculum"]

logger = logging.getLogger(__name__)


def compiled_forward(model: Any) -> Any:
    """Return the model's forward pass as a ``tf.function`` over any batch size."""
    if "forward" not in model._compiled:
        spec = tf.TensorSpec([None, model.N_steps, model.N_in], tf.float32)
        model._compiled["forward"] = tf.function(model._run_forward, input_signature=[spec])
    return model._compiled["forward"]


def compiled_loss(model: Any) -> Any:
    """Return ``reg_loss(x, y, mask)`` of the model as a ``tf.function`` over any batch size."""
    if "loss" not in model._compiled:
        model._compiled["loss"] = tf.function(model._objective, input_signature=_batch_specs(model))
    return model._compiled["loss"]


def _batch_specs(model: Any) -> list[tf.TensorSpec]:
    return [
        tf.TensorSpec([None, model.N_steps, model.N_in], tf.float32),
        tf.TensorSpec([None, model.N_steps, model.N_out], tf.float32),
        tf.TensorSpec([None, model.N_steps, model.N_out], tf.float32),
    ]


def _make_update(
    model: Any, optimizer: Any, clip_grads: bool, fixed_weights: dict[str, Any] | None
) -> Any:
    """Return ``update(x, y, mask)``: gradient of ``reg_loss``, freeze masks, per-variable clipping, one step."""
    variables = model.trainable_variables()
    names = [model.variable_key(v) for v in variables]
    keep = {}
    for name, variable in zip(names, variables):
        if fixed_weights is not None and name in fixed_weights:
            keep[name] = tf.constant(
                1.0 - np.asarray(fixed_weights[name], dtype=np.float32), dtype=variable.dtype
            )

    optimizer_unused: set[str] = set()
    if isinstance(optimizer, TF1Adam):
        optimizer_unused = optimizer.unused

    def update(x: tf.Tensor, y: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            reg_loss = model._objective(x, y, mask)
        gradients = tape.gradient(reg_loss, variables)
        # Known when the step is traced: TensorFlow 1 makes no Adam slots for these variables.
        optimizer_unused.update(n for g, n in zip(gradients, names) if g is None)
        # PsychRNN multiplies by (1 - fixed) before clipping, so frozen entries use none of the norm.
        gradients = [
            g if g is None or n not in keep else g * keep[n] for g, n in zip(gradients, names)
        ]
        if clip_grads:
            gradients = [g if g is None else tf.clip_by_norm(g, 1.0) for g in gradients]
        if isinstance(optimizer, TF1Adam):
            optimizer.apply(gradients, variables)
        else:
            pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
            optimizer.apply_gradients(pairs)
        return reg_loss

    if isinstance(optimizer, TF1Adam):
        optimizer.build(variables, names)
        return tf.function(update, input_signature=_batch_specs(model))
    try:
        import keras

        if isinstance(optimizer, keras.optimizers.Optimizer):
            optimizer.build(variables)
            return tf.function(update, input_signature=_batch_specs(model))
    except ImportError:  # pragma: no cover - keras ships with TensorFlow
        pass
    # A TensorFlow 1 optimizer creates its slots on first use, which a tf.function cannot
    # repeat, so it runs eagerly.
    return update


def _as_generator(source: Any) -> Iterator[Any]:
    if isgenerator(source) or (
        hasattr(source, "__next__") and not hasattr(source, "batch_generator")
    ):
        return source
    return source.batch_generator()


def _make_folder(path: str | None) -> None:
    if path is not None:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)


def _tensors(x: Any, y: Any, mask: Any) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    return (
        tf.constant(np.asarray(x, dtype=np.float32)),
        tf.constant(np.asarray(y, dtype=np.float32)),
        tf.constant(np.asarray(mask, dtype=np.float32)),
    )


def train(
    model: Any, trial_batch_generator: Any, train_params: dict[str, Any]
) -> tuple[list[float], float, float]:
    """Train ``model`` on a task or generator of ``(x, y, mask, trial_params)`` batches.

    ``train_params`` keys (PsychRNN's): ``learning_rate`` (0.001), ``training_iters`` (50000
    trials), ``loss_epoch`` (10), ``verbosity`` (True: progress is logged at INFO level),
    ``save_weights_path``, ``save_training_weights_epoch`` (100), ``training_weights_path``,
    ``curriculum``, ``optimizer`` (a ``TF1Adam``, Keras or ``tf.compat.v1.train`` optimizer),
    ``clip_grads`` (True), ``fixed_weights``, ``performance_measure`` and ``performance_cutoff``.

    Returns ``(losses, training_time, initialization_time)``. Training continues from the
    current weights; the optimiser state starts afresh on each call, as PsychRNN builds a new
    optimiser per call.
    """
    t0 = time.time()
    learning_rate = train_params.get("learning_rate", 0.001)
    training_iters = train_params.get("training_iters", 50000)
    loss_epoch = train_params.get("loss_epoch", 10)
    verbosity = train_params.get("verbosity", True)
    save_weights_path = train_params.get("save_weights_path")
    save_training_weights_epoch = train_params.get("save_training_weights_epoch", 100)
    training_weights_path = train_params.get("training_weights_path")
    curriculum = train_params.get("curriculum")
    optimizer = train_params.get("optimizer")
    clip_grads = train_params.get("clip_grads", True)
    fixed_weights = train_params.get("fixed_weights")
    performance_cutoff = train_params.get("performance_cutoff")
    performance_measure = train_params.get("performance_measure")
    if (performance_cutoff is None) != (performance_measure is None):
        raise CompatUsageError(
            "performance_cutoff",
            "training will not be cut off based on performance: define both performance_measure and performance_cutoff",
            performance_cutoff,
        )

    generator = _as_generator(
        curriculum.batch_generator() if curriculum is not None else trial_batch_generator
    )
    _make_folder(save_weights_path)
    _make_folder(training_weights_path)
    if optimizer is None:
        optimizer = TF1Adam(learning_rate=learning_rate)
    update = _make_update(model, optimizer, clip_grads, fixed_weights)
    model.optimizers.append(optimizer)
    evaluate = compiled_loss(model)

    t1 = time.time()
    epoch = 1
    batch_size = next(generator)[0].shape[0]
    losses: list[float] = []
    performance = None if performance_cutoff is None else performance_cutoff - 1
    while (epoch - 1) * batch_size < training_iters and (
        performance_cutoff is None or performance < performance_cutoff
    ):
        batch_x, batch_y, output_mask, _ = next(generator)
        tensors = _tensors(batch_x, batch_y, output_mask)
        update(*tensors)
        if epoch % loss_epoch == 0:
            reg_loss = float(evaluate(*tensors))
            losses.append(reg_loss)
            if verbosity:
                logger.info("Iter %d, Minibatch Loss= %.6f", epoch * batch_size, reg_loss)
        if curriculum is not None and epoch % curriculum.metric_epoch == 0:
            trial_batch, trial_y, trial_mask, _ = next(generator)
            output, _ = model.test(trial_batch)
            if curriculum.metric_test(
                trial_batch, trial_y, trial_mask, output, epoch, losses, verbosity
            ):
                if curriculum.stop_training:
                    break
                generator = _as_generator(curriculum.batch_generator())
        if training_weights_path is not None and epoch % save_training_weights_epoch == 0:
            model.save(training_weights_path + str(epoch))
            if verbosity:
                logger.info("Training weights saved in file: %s%d", training_weights_path, epoch)
        if performance_measure is not None:
            trial_batch, trial_y, trial_mask, _ = next(generator)
            output, _ = model.test(trial_batch)
            performance = performance_measure(
                trial_batch, trial_y, trial_mask, output, epoch, losses, verbosity
            )
            if verbosity:
                logger.info("performance: %s", performance)
        epoch += 1
    t2 = time.time()
    if verbosity:
        logger.info("Optimization finished!")
    if save_weights_path is not None:
        model.save(save_weights_path)
        if verbosity:
            logger.info("Model saved in file: %s", save_weights_path)
    return losses, t2 - t1, t1 - t0


def train_curriculum(model: Any, train_params: dict[str, Any]) -> tuple[list[float], float, float]:
    """Train with the curriculum in ``train_params['curriculum']``.

    Raises
    ------
    CompatUsageError
        If ``train_params`` has no curriculum.
    """
    curriculum = train_params.get("curriculum")
    if curriculum is None:
        raise CompatUsageError(
            "curriculum",
            "train_curric requires a curriculum: pass one in train_params or use train instead",
            None,
        )
    return train(model, curriculum.batch_generator(), train_params)
