"""`assay demo`: a realistic support bot's traffic, two releases and a served UI."""
