"""course_nn: reference implementations, data sets, plots and grading for course-nn.

NumPy, float64, numerically stable; every function is checked against PyTorch
autograd in ``tests/``. One module per chapter topic; this file lists the public
API explicitly (see DESIGN.md).
"""

from course_nn import datasets
from course_nn.activations import (
    ACTIVATIONS,
    get_activation,
    identity,
    identity_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from course_nn.linear import (
    GradientDescentResult,
    fit_least_squares,
    gradient_descent,
    linear_forward,
    linear_mse_grads,
    mse,
    mse_grad,
)
from course_nn.logistic import (
    BOOLEAN_WEIGHTS,
    XNOR_PARAMS,
    XOR_PARAMS,
    LogisticRegressionResult,
    binary_cross_entropy_with_logits,
    boolean_unit,
    fit_logistic,
    logistic_forward,
    logistic_grads,
    predict_logistic,
    xnor_network,
    xor_network,
)
from course_nn.losses import (
    BITS_PER_NAT,
    NATS_PER_BIT,
    accuracy,
    binary_cross_entropy,
    bits_to_nats,
    cross_entropy,
    cross_entropy_between,
    entropy,
    kl_divergence,
    nats_to_bits,
    regularised_cost,
    softmax_cross_entropy,
)
from course_nn.softmax import (
    log_softmax,
    logsumexp,
    one_hot,
    softmax,
    softmax_regression_logits,
    softmax_regression_proba,
)
from course_nn.softmax import predict as softmax_regression_predict

__version__ = "0.1.0"

__all__ = [
    "BITS_PER_NAT",
    "NATS_PER_BIT",
    "accuracy",
    "binary_cross_entropy",
    "bits_to_nats",
    "cross_entropy",
    "cross_entropy_between",
    "entropy",
    "kl_divergence",
    "log_softmax",
    "logsumexp",
    "nats_to_bits",
    "one_hot",
    "regularised_cost",
    "softmax",
    "softmax_cross_entropy",
    "softmax_regression_logits",
    "softmax_regression_predict",
    "softmax_regression_proba",
    "ACTIVATIONS",
    "BOOLEAN_WEIGHTS",
    "XNOR_PARAMS",
    "XOR_PARAMS",
    "GradientDescentResult",
    "LogisticRegressionResult",
    "binary_cross_entropy_with_logits",
    "boolean_unit",
    "fit_logistic",
    "get_activation",
    "identity",
    "identity_grad",
    "logistic_forward",
    "logistic_grads",
    "predict_logistic",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    "xnor_network",
    "xor_network",
    "datasets",
    "fit_least_squares",
    "gradient_descent",
    "linear_forward",
    "linear_mse_grads",
    "mse",
    "mse_grad",
]
