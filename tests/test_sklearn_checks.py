"""scikit-learn's estimator checks, for the three estimators.

The checks feed numeric 2-D arrays, which a text estimator rejects by design;
scikit-learn skips every check for an estimator whose tags say it takes
strings. To run them at all, test subclasses claim 2-D input; the checks
that then fail because their data is not text are listed once, with the reason.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import TINY
from skbert import BertClassifier, BertRegressor, BertVectorizer

NOT_TEXT = "feeds numeric arrays; skbert's estimators take strings and say so"
HEAD_KWARGS = (
    "passes '**head_params' by its name; only head__* keywords are accepted, and "
    "others raise TypeError as any unknown keyword does"
)


def numeric_tagged(cls):
    """`cls` with tags that let scikit-learn generate its checks."""

    def __sklearn_tags__(self):
        tags = cls.__sklearn_tags__(self)
        tags.input_tags.two_d_array = True
        return tags

    return type(cls.__name__, (cls,), {"__sklearn_tags__": __sklearn_tags__})


# Checks that fail for all three because their data is numeric.
ALL = {
    "check_complex_data",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit1d",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
}
# ... and for both supervised estimators (y and sample_weight checks).
SUPERVISED = {
    "check_all_zero_sample_weights_error",
    "check_requires_y_none",
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weights_list",
    "check_sample_weights_not_an_array",
    "check_sample_weights_not_overwritten",
    "check_sample_weights_pandas_series",
    "check_sample_weights_shape",
    "check_supervised_y_2d",
}
CLASSIFIER = {
    "check_class_weight_classifiers",
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_multilabel_output_format_decision_function",
    "check_classifiers_multilabel_output_format_predict",
    "check_classifiers_multilabel_output_format_predict_proba",
    "check_classifiers_multilabel_representation_invariance",
    "check_classifiers_one_label",
    "check_classifiers_one_label_sample_weights",
    "check_classifiers_regression_target",
    "check_classifiers_train",
    "check_decision_proba_consistency",
    "check_sample_weights_invariance",
}
REGRESSOR = {
    "check_regressor_data_not_an_array",
    "check_regressors_int",
    "check_regressors_no_decision_function",
    "check_regressors_train",
}
VECTORIZER = {
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
}
EXPECTED_FAILED_CHECKS = {
    "BertClassifier": {
        **dict.fromkeys(ALL | SUPERVISED | CLASSIFIER, NOT_TEXT),
        "check_do_not_raise_errors_in_init_or_set_params": HEAD_KWARGS,
    },
    "BertRegressor": {
        **dict.fromkeys(ALL | SUPERVISED | REGRESSOR, NOT_TEXT),
        "check_do_not_raise_errors_in_init_or_set_params": HEAD_KWARGS,
    },
    "BertVectorizer": dict.fromkeys(ALL | VECTORIZER, NOT_TEXT),
}


@parametrize_with_checks(
    [
        numeric_tagged(BertClassifier)(TINY, epochs=1),
        numeric_tagged(BertRegressor)(TINY, epochs=1),
        numeric_tagged(BertVectorizer)(TINY),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS[type(est).__name__],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
