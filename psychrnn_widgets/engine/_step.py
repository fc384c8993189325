"""The compiled update: forward pass, loss, gradients, clipping, freezing and the optimiser step.

One call of :meth:`CompiledUpdate.train` runs several updates inside a single ``tf.function``
(a ``tf.while_loop`` over the stacked batches), so Python runs once per call, never per update
or per time step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from psychrnn_widgets.engine._recurrence import for_xla
from psychrnn_widgets.engine._runtime import release_free_memory, without_cache_load_message
from psychrnn_widgets.errors import TrainingError

__all__ = ["CompiledUpdate"]

logger = logging.getLogger(__name__)

# Errors that a compiled program can raise while it runs. Falling back to a plain graph would
# not help with them.
_NOT_COMPILATION_ERRORS = (tf.errors.ResourceExhaustedError, tf.errors.CancelledError)



class CompiledUpdate:
    """Compiled training and evaluation functions for one network, optimiser and objective.

    Parameters
    ----------
    network
        A network of :mod:`psychrnn_widgets.engine` (``forward``, ``trainable_variables``).
    optimizer : keras.optimizers.Optimizer
        Built here on the network's trainable variables if it is not built yet.
    objective : callable
        ``objective(outputs, states, targets, mask) -> scalar tensor``: loss plus regularisation.
    clip : {"per_variable", "global", None}
    clip_norm : float
    frozen : dict of str to bool array
        Entries (True) of trainable variables that must not change.
    noise_key : int or None
        Seed of the recurrent noise; None trains without noise. The noise of update ``u`` is
        ``stateless_normal(seed=(noise_key, u))``, so it does not depend on how updates are
        grouped into calls or runs.
    jit_compile : bool
        Compile the update with XLA.
    batch_shards : int, default 1
        Split every batch into this many contiguous parts of trials. Each part runs the
        network's forward pass and its gradients as a separate compiled program, and TensorFlow
        runs those side by side on its inter-op threads. The loss, the regularisers and the
        optimiser step see the whole batch, so the result equals the unsplit update up to float
        rounding.
        Every batch must have at least this many trials.
    """

    def __init__(
        self,
        network: Any,
        optimizer: Any,
        objective: Callable[..., tf.Tensor],
        clip: str | None,
        clip_norm: float,
        frozen: dict[str, np.ndarray],
        noise_key: int | None,
        jit_compile: bool,
        batch_shards: int = 1,
    ) -> None:
        self.network = network
        self.optimizer = optimizer
        self.objective = objective
        self.clip = clip
        self.clip_norm = float(clip_norm)
        self.noise_key = noise_key
        self.jit_compile = jit_compile
        self.batch_shards = max(int(batch_shards), 1)
        self.variables: list[tf.Variable] = list(network.trainable_variables)
        if not self.variables:
            raise TrainingError(
                "the network has no trainable variables; set at least one *_train flag to True"
            )
        if not optimizer.built:
            optimizer.build(self.variables)

        names = _variable_names(network, self.variables)
        self.frozen: list[tf.Tensor | None] = []
        for name, variable in zip(names, self.variables):
            mask = frozen.get(name)
            self.frozen.append(None if mask is None else tf.constant(mask, dtype=tf.bool))
            if mask is not None and tuple(mask.shape) != tuple(variable.shape):
                raise ValueError(f"frozen mask of {name} has shape {mask.shape}")

        # The weights and optimiser state of the latest update whose loss was finite, kept on the
        # device and refreshed inside every update, so NaN recovery costs no host copy.
        self._tracked = self.variables + list(optimizer.variables)
        self._shadow = [tf.Variable(v, trainable=False, name="last_finite") for v in self._tracked]

        self.dtype = network.dtype
        self._compiled_once = False
        self._forward_once_done = False
        self._build_functions()

    def _build_functions(self) -> None:
        n_in = int(self.network.config.N_in)
        n_out = int(self.network.config.N_out)
        jit_compile = self.jit_compile
        batches = [
            tf.TensorSpec([None, None, None, n_in], self.dtype),
            tf.TensorSpec([None, None, None, n_out], self.dtype),
            tf.TensorSpec([None, None, None, n_out], self.dtype),
            tf.TensorSpec([], tf.int64),
            tf.TensorSpec([], tf.int32),
        ]
        # AutoGraph is off: converting the engine's own code took about 1 s of every first call,
        # and that code has no Python control flow on tensors. User callables (losses,
        # regularizers, transfer functions) are converted where they are accepted instead.
        #
        # XLA compiles the forward pass and the gradients, where the time loops are. The
        # optimiser step, clipping, freezing and the recovery copy run as a plain graph around
        # it: compiling them too doubled the first call (about 2 s instead of 1 s on 2 cores)
        # for no measurable gain per update.
        # Whether each batch part computes its own share of the objective (see below).
        self.split_objective = self.batch_shards > 1 and getattr(
            self.objective, "splits_by_trial", False
        )
        if self.batch_shards > 1:
            # XLA and TensorFlow's own kernels draw different stateless normals from the same
            # seed, so the noise is drawn where the unsplit update draws it.
            self._batch_noise = tf.function(self._noise, jit_compile=jit_compile, autograph=False)
            if self.split_objective:
                # Each part runs its forward pass, its share of the objective and its
                # gradients as one compiled program, and the parts run at the same time. With
                # the forward pass and the gradients as two programs per part, an LSTM update
                # (N_batch 50, N_rec 50, 200 steps, 2 parts) took 10.6 ms instead of 9.0 ms, a
                # GRU update 13.6 ms instead of 9.9 ms.
                self._shard_share = _function(self._share_and_gradients, jit_compile)
                self._gradients = self._split_objective_gradients
            else:
                # A callable loss gets the whole batch. Only the forward pass is compiled, once
                # per part, so that the parts are separate programs that can run at the same
                # time. TensorFlow compiles their gradients too.
                self._shard_forward = _function(self.network.forward, jit_compile)
                self._gradients = self._sharded_loss_and_gradients
        else:
            self._gradients = (
                _function(self._loss_and_gradients, True)
                if jit_compile
                else self._loss_and_gradients
            )
        self._train = tf.function(self._train_updates, input_signature=batches, autograph=False)
        self._forward = _function(
            self._forward_once,
            jit_compile,
            input_signature=[tf.TensorSpec([None, None, n_in], self.dtype), tf.TensorSpec([2], tf.int64)],
        )
        # The recovery copy runs eagerly: it runs once per run or per failure, and a
        # tf.function per trainer made TensorFlow warn about retracing in notebooks that build
        # several trainers.
        self._restore = self._restore_shadow
        self._save = self._save_shadow

    @property
    def tracing_count(self) -> int:
        """How often the update function has been traced (stays 1 in steady training)."""
        return int(self._train.experimental_get_tracing_count())

    def train(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray,
        first_update: int,
        count: int | None = None,
    ) -> tuple[np.ndarray, tf.Tensor, bool]:
        """Run updates on stacked batches of shape ``(k, N_batch, N_steps, ·)``.

        Only the first ``count`` batches (all by default) are used. Callers pad shorter calls
        to a fixed ``k``, because XLA compiles the update again for every new shape.

        Returns the loss of every update (before its step), the outputs of the last update and
        whether all weights are finite afterwards.
        """
        count = len(inputs) if count is None else int(count)
        arguments = (
            inputs,
            targets,
            mask,
            tf.constant(first_update, dtype=tf.int64),
            tf.constant(count, dtype=tf.int32),
        )
        if self._compiled_once:
            losses, outputs, finite = self._train(*arguments)
        else:
            losses, outputs, finite = self._first_call(arguments)
        return losses.numpy()[:count], outputs, bool(finite)

    def _first_call(self, arguments: tuple[Any, ...]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Run the first call, and go on without XLA if XLA cannot compile the update.

        XLA rejects some operations a user's loss may use, and a cache entry that another
        process was still writing fails to load. The update is then rebuilt as a plain graph,
        the weights and optimiser state are put back as they were before the call, and the
        call is repeated.
        """
        try:
            with without_cache_load_message():
                result = self._train(*arguments)
        except tf.errors.OpError as error:
            if not self.jit_compile or isinstance(error, _NOT_COMPILATION_ERRORS):
                raise
            self._drop_xla(error)
            # Parts of the step that do not wait for the gradients (the optimiser's update
            # count) may have run before the error stopped the graph.
            self._restore()
            result = self._train(*arguments)
        self._compiled_once = True
        # Compilation freed memory that the C heap would otherwise keep (about 150 MB measured).
        release_free_memory()
        return result

    def forward(self, inputs: np.ndarray, noise_seed: tuple[int, int]) -> np.ndarray:
        """Return the outputs of the network on ``inputs``, with noise drawn from ``noise_seed``."""
        seed = tf.constant(noise_seed, dtype=tf.int64)
        if self._forward_once_done:
            return self._forward(inputs, seed).numpy()
        # The first call compiles, so it falls back without XLA as the first update does.
        try:
            with without_cache_load_message():
                outputs = self._forward(inputs, seed)
        except tf.errors.OpError as error:
            if not self.jit_compile or isinstance(error, _NOT_COMPILATION_ERRORS):
                raise
            self._drop_xla(error)
            outputs = self._forward(inputs, seed)
        self._forward_once_done = True
        return outputs.numpy()

    def _drop_xla(self, error: Exception) -> None:
        logger.warning("XLA could not compile the update; training goes on without XLA: %s", error)
        self.jit_compile = False
        self._build_functions()

    def restore_last_finite(self) -> None:
        """Restore the weights and optimiser state of the latest update whose loss was finite.

        Those are the values *before* that update's step, since its loss was measured on them.
        """
        self._restore()

    def mark_current_finite(self) -> None:
        """Take the current weights as the recovery point (at the start of a run)."""
        self._save()

    def _restore_shadow(self) -> None:
        for shadow, variable in zip(self._shadow, self._tracked):
            variable.assign(shadow)

    def _save_shadow(self) -> tf.Operation | None:
        """Copy the tracked variables to the shadow and return the grouped copies (None eagerly)."""
        return tf.group([shadow.assign(v) for shadow, v in zip(self._shadow, self._tracked)])

    def _noise(self, inputs: tf.Tensor, seed: tf.Tensor) -> tf.Tensor | None:
        if self.noise_key is None:
            return None
        n_batch, n_steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
        shape = tf.stack([n_steps, n_batch, int(self.network.config.N_rec)])
        # The default algorithm ("auto_select") gives the same draws as Philox, but under XLA on a
        # CPU it took 85 ms for a 50 x 200 x 50 batch, against 1.2 ms.
        # The draws are time-major, as the loop reads them, so XLA cancels this transpose and the
        # network's.
        draws = tf.random.stateless_normal(shape, seed=seed, dtype=self.dtype, alg="philox")
        return tf.transpose(draws, [1, 0, 2])

    def _forward_once(self, inputs: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        outputs, _ = self.network.forward(inputs, self._noise(inputs, seed))
        return outputs

    def _train_updates(
        self,
        inputs: tf.Tensor,
        targets: tf.Tensor,
        mask: tf.Tensor,
        first_update: tf.Tensor,
        count: tf.Tensor,
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        key = tf.constant(self.noise_key or 0, tf.int64)

        def body(
            k: tf.Tensor, losses: tf.TensorArray, outputs: tf.Tensor
        ) -> tuple[tf.Tensor, tf.TensorArray, tf.Tensor]:
            seed = tf.stack([key, first_update + tf.cast(k, tf.int64)])
            loss, outputs = self._update(inputs[k], targets[k], mask[k], seed)
            return k + 1, losses.write(k, loss), outputs

        start = (
            tf.constant(0, tf.int32),
            tf.TensorArray(self.dtype, size=tf.shape(inputs)[0], element_shape=[]),
            tf.zeros_like(targets[0]),
        )
        _, losses, outputs = tf.while_loop(lambda k, *_: k < count, body, start)

        finite = tf.reduce_all(
            tf.stack([tf.reduce_all(tf.math.is_finite(v)) for v in self.variables])
        )
        return losses.stack(), outputs, finite

    def _loss_and_gradients(
        self, inputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        with tf.GradientTape() as tape:
            outputs, states = self.network.forward(inputs, self._noise(inputs, seed))
            loss = self.objective(outputs, states, targets, mask)
        return loss, outputs, self._dense_gradients(tape, loss)

    def _dense_gradients(self, tape: tf.GradientTape, loss: tf.Tensor) -> list[tf.Tensor]:
        """Return the gradient of ``loss`` for every variable, zeros where it has none."""
        gradients = tape.gradient(loss, self.variables)
        return [
            tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
            for g, v in zip(gradients, self.variables)
        ]

    def _split_batch(
        self, inputs: tf.Tensor, seed: tf.Tensor
    ) -> tuple[list[tuple[tf.Tensor, tf.Tensor]], tf.Tensor | None]:
        """Return the (start, stop) trial range of every part and the whole batch's noise."""
        shards = self.batch_shards
        n_batch = tf.shape(inputs)[0]
        bounds = [(n_batch * i) // shards for i in range(shards + 1)]
        # The noise is drawn for the whole batch, so it does not depend on the split.
        noise = None if self.noise_key is None else self._batch_noise(inputs, seed)
        return list(zip(bounds[:-1], bounds[1:])), noise

    def _sharded_loss_and_gradients(
        self, inputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        ranges, noise = self._split_batch(inputs, seed)
        with tf.GradientTape() as tape:
            parts = [
                self._shard_forward(
                    inputs[start:stop], None if noise is None else noise[start:stop]
                )
                for start, stop in ranges
            ]
            outputs = tf.concat([part[0] for part in parts], axis=0)
            states = tf.concat([part[1] for part in parts], axis=0)
            loss = self.objective(outputs, states, targets, mask)
        return loss, outputs, self._dense_gradients(tape, loss)

    def _share_and_gradients(
        self,
        inputs: tf.Tensor,
        targets: tf.Tensor,
        mask: tf.Tensor,
        noise: tf.Tensor | None,
        scales: tf.Tensor,
    ) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        """Return one part's share of the objective, its outputs and the share's gradients."""
        with tf.GradientTape() as tape:
            outputs, states = self.network.forward(inputs, noise)
            share = self.objective.trial_share(outputs, states, targets, mask, scales)
        return share, outputs, self._dense_gradients(tape, share)

    def _split_objective_gradients(
        self, inputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        ranges, noise = self._split_batch(inputs, seed)
        scales = self.objective.trial_scales(targets, mask)
        parts = [
            self._shard_share(
                inputs[start:stop],
                targets[start:stop],
                mask[start:stop],
                None if noise is None else noise[start:stop],
                scales,
            )
            for start, stop in ranges
        ]
        loss = tf.add_n([part[0] for part in parts])
        gradients = [tf.add_n(list(terms)) for terms in zip(*(part[2] for part in parts))]
        with tf.GradientTape() as tape:
            weight_terms = self.objective.weight_terms()
        if weight_terms is not None:
            loss += weight_terms
            extra = self._dense_gradients(tape, weight_terms)
            gradients = [g + e for g, e in zip(gradients, extra)]
        return loss, tf.concat([part[1] for part in parts], axis=0), gradients

    def _update(
        self, inputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        loss, outputs, gradients = self._gradients(inputs, targets, mask, seed)
        # The freeze mask goes before clipping, as in PsychRNN, so frozen entries do not use
        # up any of the clipping norm.
        gradients = [
            g if frozen is None else tf.where(frozen, tf.zeros_like(g), g)
            for g, frozen in zip(gradients, self.frozen)
        ]
        if self.clip == "per_variable":
            gradients = [tf.clip_by_norm(g, self.clip_norm) for g in gradients]
        elif self.clip == "global":
            gradients, _ = tf.clip_by_global_norm(gradients, self.clip_norm)

        # One condition instead of a select per variable: about 70 fewer operations per update.
        # This step runs alone between the batch parts, so each of its operations adds time.
        tf.cond(tf.math.is_finite(loss), self._save_shadow, tf.no_op)

        before = [None if f is None else tf.identity(v) for v, f in zip(self.variables, self.frozen)]
        self.optimizer.apply(gradients, self.variables)
        # A zero gradient keeps Adam's step at zero only while its moments are zero. Weight
        # decay, or moments left from an earlier run, would still move frozen entries, so they
        # are written back bit for bit.
        for variable, frozen, old in zip(self.variables, self.frozen, before):
            if frozen is not None:
                variable.assign(tf.where(frozen, old, variable))
        return loss, outputs


def _function(function: Callable[..., Any], jit_compile: bool, **options: Any) -> Any:
    """Return ``tf.function(function)``, wrapped by :func:`for_xla` when it is compiled."""
    traced = for_xla(function) if jit_compile else function
    return tf.function(traced, jit_compile=jit_compile, autograph=False, **options)


def _variable_names(network: Any, variables: list[tf.Variable]) -> list[str]:
    by_id = {id(v): name for name, v in network.variables.items()}
    return [by_id.get(id(v), v.name.split("/")[-1].split(":")[0]) for v in variables]
