"""The legal narrative: the view model, the verdict and evidence, activities in words, signed reports."""
