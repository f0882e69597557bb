"""scikit-learn's estimator checks.

The checks feed numeric 2-D arrays, which a text estimator rejects by design;
scikit-learn skips every check for an estimator whose tags say it takes
strings. To run them at all, a test subclass claims 2-D input; the checks
that then fail because their data is not text are listed once, with the reason.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import TINY
from skbert import BertClassifier

NOT_TEXT = "feeds numeric arrays; BertClassifier takes strings and says so"


class NumericTagged(BertClassifier):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags


EXPECTED_FAILED_CHECKS = {
    "check_estimators_dtypes": NOT_TEXT,
    "check_fit_score_takes_y": NOT_TEXT,
    "check_sample_weights_pandas_series": NOT_TEXT,
    "check_sample_weights_not_an_array": NOT_TEXT,
    "check_sample_weights_list": NOT_TEXT,
    "check_sample_weights_shape": NOT_TEXT,
    "check_sample_weights_not_overwritten": NOT_TEXT,
    "check_sample_weights_invariance": NOT_TEXT,
    "check_estimators_fit_returns_self": NOT_TEXT,
    "check_complex_data": NOT_TEXT,
    "check_dtype_object": NOT_TEXT,
    "check_estimators_empty_data_messages": NOT_TEXT,
    "check_pipeline_consistency": NOT_TEXT,
    "check_estimators_nan_inf": NOT_TEXT,
    "check_estimators_overwrite_params": NOT_TEXT,
    "check_estimator_sparse_array": NOT_TEXT,
    "check_estimator_sparse_matrix": NOT_TEXT,
    "check_estimator_sparse_tag": NOT_TEXT,
    "check_estimators_pickle": NOT_TEXT,
    "check_f_contiguous_array_estimator": NOT_TEXT,
    "check_classifier_data_not_an_array": NOT_TEXT,
    "check_classifiers_one_label": NOT_TEXT,
    "check_classifiers_one_label_sample_weights": NOT_TEXT,
    "check_classifiers_classes": NOT_TEXT,
    "check_classifiers_train": NOT_TEXT,
    "check_classifiers_regression_target": NOT_TEXT,
    "check_supervised_y_2d": NOT_TEXT,
    "check_decision_proba_consistency": NOT_TEXT,
    "check_methods_subset_invariance": NOT_TEXT,
    "check_methods_sample_order_invariance": NOT_TEXT,
    "check_fit2d_1sample": NOT_TEXT,
    "check_fit2d_1feature": NOT_TEXT,
    "check_dict_unchanged": NOT_TEXT,
    "check_dont_overwrite_parameters": NOT_TEXT,
    "check_fit_idempotent": NOT_TEXT,
    "check_fit_check_is_fitted": NOT_TEXT,
    "check_n_features_in": NOT_TEXT,
    "check_fit2d_predict1d": NOT_TEXT,
    "check_requires_y_none": NOT_TEXT,
    "check_n_features_in_after_fitting": NOT_TEXT,
    "check_positive_only_tag_during_fit": NOT_TEXT,
    "check_classifiers_multilabel_output_format_predict": NOT_TEXT,
    "check_classifiers_multilabel_output_format_predict_proba": NOT_TEXT,
    "check_classifiers_multilabel_output_format_decision_function": NOT_TEXT,
    "check_readonly_memmap_input": NOT_TEXT,
    "check_all_zero_sample_weights_error": NOT_TEXT,
    "check_sample_weight_equivalence_on_dense_data": NOT_TEXT,
    "check_class_weight_classifiers": NOT_TEXT,
    "check_fit1d": NOT_TEXT,
}


@parametrize_with_checks(
    [NumericTagged(TINY, epochs=1)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
