"""Reference run in PsychRNN 1.0.0's own environment (never imported by the test process).

Usage: ``python psychrnn_side.py REQUEST_JSON``. The request names a model (basic, basic_scan or
lstm), a weight file written by the compat layer, a batch file, the number of updates and an
output folder. The script loads the weights, runs ``test`` on the batch inputs, evaluates the loss,
trains on the given batches with PsychRNN's own ``train`` and saves the result. It prints one
JSON line with the path of the result file.
"""

import json
import sys

import numpy as np
import tensorflow as tf
from psychrnn.backend.models.basic import Basic, BasicScan
from psychrnn.backend.models.lstm import LSTM
from psychrnn.backend.rnn import RNN

LSTM_NAMES = ("init_hidden", "init_cell", "W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")


class ConstantLSTM(LSTM):
    """PsychRNN's LSTM whose gate variables start from given arrays instead of random draws."""

    def __init__(self, params):
        RNN.__init__(self, params)
        self.N_concat = self.N_in + self.N_rec
        values = params["lstm_values"]
        with tf.compat.v1.variable_scope(self.name):
            for key in LSTM_NAMES:
                array = values[key]
                variable = tf.compat.v1.get_variable(
                    key,
                    list(array.shape),
                    initializer=tf.compat.v1.constant_initializer(array),
                    trainable=True,
                )
                setattr(self, key, variable)


def main():
    request = json.loads(sys.argv[1])
    batches = dict(np.load(request["batches"]))
    kind = request["model"]
    params = dict(request["params"])
    params["load_weights_path"] = request["weights"]
    if kind == "lstm":
        stored = np.load(request["weights"])
        params["lstm_values"] = {key: stored[key] for key in LSTM_NAMES}
    if kind == "basic_scan":
        # TensorFlow 2.21 in graph mode cannot differentiate PsychRNN's second tf.scan without this.
        tf.compat.v1.experimental.output_all_intermediates(True)
    model = {"basic": Basic, "basic_scan": BasicScan, "lstm": ConstantLSTM}[kind](params)

    x, y, mask = batches["x"], batches["y"], batches["mask"]
    outputs, states = model.test(x[0])
    loss = model.sess.run(
        model.reg_loss, feed_dict={model.x: x[0], model.y: y[0], model.output_mask: mask[0]}
    )

    updates = request["updates"]

    def generator():
        yield x[0], y[0], mask[0], None  # read only for the batch size
        for index in range(updates):
            yield x[index], y[index], mask[index], None

    batch = x.shape[1]
    # PsychRNN 1.0.0 runs an update while update * batch < training_iters.
    train_params = {"training_iters": updates * batch + 1, "loss_epoch": 1, "verbosity": False}
    train_params.update(request.get("train_params", {}))
    losses, _, _ = model.train(generator(), train_params)
    trained_outputs, _ = model.test(x[0])
    model.save(request["out"] + "/psychrnn_trained")
    weights = model.get_weights()
    result = {
        "outputs": outputs,
        "states": states,
        "loss": np.float64(loss),
        "losses": np.asarray(losses, dtype=np.float64),
        "trained_outputs": trained_outputs,
    }
    for key, value in weights.items():
        if key != "dale_ratio":
            result["weight:" + key] = value
    np.savez(request["out"] + "/result.npz", **result)
    print(
        json.dumps(
            {
                "result": request["out"] + "/result.npz",
                "saved": request["out"] + "/psychrnn_trained.npz",
            }
        )
    )


main()
