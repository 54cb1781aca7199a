/*
 * The keys of churn_params as identifiers (generated from libchurn/params-keys.def
 * by scripts/gen-param-keys.py: do not edit; the `param-keys` test checks it is
 * current). Each macro expands to the key's string and its comment gives the
 * key's type: churn_params_get_int(p, CHURN_KEY_GBM_N_TREES).
 */
#ifndef CHURN_PARAM_KEYS_H
#define CHURN_PARAM_KEYS_H

#define CHURN_KEY_CSV_MAX_FIELD_BYTES        "csv.max_field_bytes" /* INT */
#define CHURN_KEY_CSV_MAX_LINE_BYTES         "csv.max_line_bytes" /* INT */
#define CHURN_KEY_CSV_MAX_ROWS               "csv.max_rows" /* INT */
#define CHURN_KEY_CSV_MAX_COLS               "csv.max_cols" /* INT */
#define CHURN_KEY_CSV_MAX_CATEGORIES         "csv.max_categories" /* INT */
#define CHURN_KEY_CSV_SKIP_RAGGED            "csv.skip_ragged" /* BOOL */
#define CHURN_KEY_CSV_NA_TOKENS              "csv.na_tokens" /* STR */
#define CHURN_KEY_CSV_CHUNK_BYTES            "csv.chunk_bytes" /* INT */
#define CHURN_KEY_DATA_TARGET                "data.target" /* STR */
#define CHURN_KEY_DATA_POSITIVE              "data.positive" /* STR */
#define CHURN_KEY_DATA_ID                    "data.id" /* STR */
#define CHURN_KEY_FETCH_TIMEOUT_S            "fetch.timeout_s" /* DOUBLE */
#define CHURN_KEY_FETCH_CONNECT_TIMEOUT_S    "fetch.connect_timeout_s" /* DOUBLE */
#define CHURN_KEY_FETCH_RETRIES              "fetch.retries" /* INT */
#define CHURN_KEY_FETCH_RETRY_DELAY_S        "fetch.retry_delay_s" /* DOUBLE */
#define CHURN_KEY_FETCH_MAX_BYTES            "fetch.max_bytes" /* INT */
#define CHURN_KEY_DATA_SOURCE                "data.source" /* STR */
#define CHURN_KEY_SPLIT_TEST_SIZE            "split.test_size" /* DOUBLE */
#define CHURN_KEY_SPLIT_SEED                 "split.seed" /* INT */
#define CHURN_KEY_PREP_IMPUTE_NUMERIC        "prep.impute_numeric" /* STR */
#define CHURN_KEY_PREP_IMPUTE_CONSTANT       "prep.impute_constant" /* DOUBLE */
#define CHURN_KEY_PREP_IMPUTE_CATEGORICAL    "prep.impute_categorical" /* STR */
#define CHURN_KEY_PREP_MISSING_INDICATOR     "prep.missing_indicator" /* BOOL */
#define CHURN_KEY_PREP_SCALE                 "prep.scale" /* STR */
#define CHURN_KEY_PREP_MAX_UNIQUE_RATIO      "prep.max_unique_ratio" /* DOUBLE */
#define CHURN_KEY_PREP_MAX_LEVELS            "prep.max_levels" /* INT */
#define CHURN_KEY_PREP_DROP_MISSING_TARGET   "prep.drop_missing_target" /* BOOL */
#define CHURN_KEY_PREP_CHUNK_ROWS            "prep.chunk_rows" /* INT */
#define CHURN_KEY_WORKDIR_LOCK_WAIT_S        "workdir.lock_wait_s" /* DOUBLE */
#define CHURN_KEY_WORKDIR_MAX_RECORDS        "workdir.max_records" /* INT */
#define CHURN_KEY_WORKDIR_LOG_MAX_BYTES      "workdir.log_max_bytes" /* INT */
#define CHURN_KEY_WORKDIR_MAX_REPORT_BYTES   "workdir.max_report_bytes" /* INT */
#define CHURN_KEY_PIPELINE_FIGURES           "pipeline.figures" /* BOOL */
#define CHURN_KEY_PIPELINE_MODELS            "pipeline.models" /* STR */
#define CHURN_KEY_PIPELINE_THRESHOLD         "pipeline.threshold" /* DOUBLE */
#define CHURN_KEY_PIPELINE_IMPORTANCE        "pipeline.importance" /* BOOL */
#define CHURN_KEY_PIPELINE_SCORES_OUT        "pipeline.scores_out" /* STR */
#define CHURN_KEY_LOGREG_CLASS_WEIGHT        "logreg.class_weight" /* STR */
#define CHURN_KEY_LOGREG_MAX_ITER            "logreg.max_iter" /* INT */
#define CHURN_KEY_LOGREG_TOL                 "logreg.tol" /* DOUBLE */
#define CHURN_KEY_LOGREG_N_THREADS           "logreg.n_threads" /* INT */
#define CHURN_KEY_PARQUET_COMPRESSION        "parquet.compression" /* STR */
#define CHURN_KEY_PARQUET_ZSTD_LEVEL         "parquet.zstd_level" /* INT */
#define CHURN_KEY_PARQUET_ROW_GROUP_ROWS     "parquet.row_group_rows" /* INT */
#define CHURN_KEY_PARQUET_PAGE_BYTES         "parquet.page_bytes" /* INT */
#define CHURN_KEY_PARQUET_DICTIONARY         "parquet.dictionary" /* BOOL */
#define CHURN_KEY_PARQUET_KV                 "parquet.kv" /* STR */
#define CHURN_KEY_GBM_N_TREES                "gbm.n_trees" /* INT */
#define CHURN_KEY_GBM_LEARNING_RATE          "gbm.learning_rate" /* DOUBLE */
#define CHURN_KEY_GBM_MAX_DEPTH              "gbm.max_depth" /* INT */
#define CHURN_KEY_GBM_MAX_LEAVES             "gbm.max_leaves" /* INT */
#define CHURN_KEY_GBM_MIN_SAMPLES_LEAF       "gbm.min_samples_leaf" /* INT */
#define CHURN_KEY_GBM_MIN_HESSIAN            "gbm.min_hessian" /* DOUBLE */
#define CHURN_KEY_GBM_L2                     "gbm.l2" /* DOUBLE */
#define CHURN_KEY_GBM_SUBSAMPLE              "gbm.subsample" /* DOUBLE */
#define CHURN_KEY_GBM_MAX_BINS               "gbm.max_bins" /* INT */
#define CHURN_KEY_GBM_EARLY_STOPPING         "gbm.early_stopping" /* BOOL */
#define CHURN_KEY_GBM_VALIDATION_FRACTION    "gbm.validation_fraction" /* DOUBLE */
#define CHURN_KEY_GBM_N_ITER_NO_CHANGE       "gbm.n_iter_no_change" /* INT */
#define CHURN_KEY_GBM_N_THREADS              "gbm.n_threads" /* INT */
#define CHURN_KEY_GBM_SEED                   "gbm.seed" /* INT */
#define CHURN_KEY_FOREST_N_TREES             "forest.n_trees" /* INT */
#define CHURN_KEY_FOREST_MAX_FEATURES        "forest.max_features" /* DOUBLE */
#define CHURN_KEY_FOREST_MAX_DEPTH           "forest.max_depth" /* INT */
#define CHURN_KEY_FOREST_MIN_SAMPLES_LEAF    "forest.min_samples_leaf" /* INT */
#define CHURN_KEY_FOREST_BOOTSTRAP           "forest.bootstrap" /* BOOL */
#define CHURN_KEY_FOREST_MAX_BINS            "forest.max_bins" /* INT */
#define CHURN_KEY_FOREST_N_THREADS           "forest.n_threads" /* INT */
#define CHURN_KEY_FOREST_SEED                "forest.seed" /* INT */
#define CHURN_KEY_EDA_TENURE_COL             "eda.tenure_col" /* STR */
#define CHURN_KEY_EDA_CHARGES_COL            "eda.charges_col" /* STR */
#define CHURN_KEY_EDA_SEGMENT_COL            "eda.segment_col" /* STR */
#define CHURN_KEY_EDA_KM_BAND                "eda.km_band" /* STR */
#define CHURN_KEY_EDA_HIST_BINS              "eda.hist_bins" /* INT */
#define CHURN_KEY_EDA_THRESHOLD              "eda.threshold" /* DOUBLE */
#define CHURN_KEY_EDA_FIGURES                "eda.figures" /* BOOL */
#define CHURN_KEY_EDA_SVG                    "eda.svg" /* BOOL */
#define CHURN_KEY_EDA_FIG_WIDTH              "eda.fig_width" /* INT */
#define CHURN_KEY_EDA_FIG_HEIGHT             "eda.fig_height" /* INT */
#define CHURN_KEY_EDA_IMPORTANCE             "eda.importance" /* BOOL */
#define CHURN_KEY_EDA_CORR_MAX_FEATURES      "eda.corr_max_features" /* INT */
#define CHURN_KEY_EDA_FIG_MAX_COLUMNS        "eda.fig_max_columns" /* INT */
#define CHURN_KEY_EDA_IMPORTANCE_MAX_COLUMNS "eda.importance_max_columns" /* INT */
#define CHURN_KEY_TRAIN_THRESHOLD            "train.threshold" /* STR */
#define CHURN_KEY_TRAIN_COST_FN              "train.cost_fn" /* DOUBLE */
#define CHURN_KEY_TRAIN_COST_FP              "train.cost_fp" /* DOUBLE */
#define CHURN_KEY_TRAIN_THRESHOLD_FOLDS      "train.threshold_folds" /* INT */
#define CHURN_KEY_TRAIN_CV                   "train.cv" /* INT */
#define CHURN_KEY_TRAIN_REFIT                "train.refit" /* BOOL */
#define CHURN_KEY_PREP_KEEP_COLUMNS          "prep.keep_columns" /* STR */
#define CHURN_KEY_TRAIN_MAX_ROWS             "train.max_rows" /* INT */
#define CHURN_KEY_EDA_TENURE_UNIT            "eda.tenure_unit" /* STR */
#define CHURN_KEY_COX_RIDGE                  "cox.ridge" /* DOUBLE */
#define CHURN_KEY_COX_MAX_ITER               "cox.max_iter" /* INT */
#define CHURN_KEY_COX_TOL                    "cox.tol" /* DOUBLE */
#define CHURN_KEY_COX_HORIZON                "cox.horizon" /* DOUBLE */
#define CHURN_KEY_COX_N_THREADS              "cox.n_threads" /* INT */
#define CHURN_KEY_DRIFT_ENABLED              "drift.enabled" /* BOOL */
#define CHURN_KEY_DRIFT_PSI_WARN             "drift.psi_warn" /* DOUBLE */
#define CHURN_KEY_DRIFT_PSI_ALERT            "drift.psi_alert" /* DOUBLE */
#define CHURN_KEY_DRIFT_BINS                 "drift.bins" /* INT */
#define CHURN_KEY_DRIFT_MAX_LEVELS           "drift.max_levels" /* INT */
#define CHURN_KEY_PG_CONNECT_TIMEOUT_S       "pg.connect_timeout_s" /* DOUBLE */
#define CHURN_KEY_PG_STATEMENT_TIMEOUT_S     "pg.statement_timeout_s" /* DOUBLE */

#endif /* CHURN_PARAM_KEYS_H */
