"""BERT in tf_keras and its export to TF Hub-format SavedModels."""
