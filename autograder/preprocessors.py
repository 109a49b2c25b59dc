"""nbgrader preprocessors of our own, composed into nbgrader's pipelines by configuration."""

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode

from autograder.authoring import role


class ShortenTestTracebacks(Preprocessor):
    """Reduce a failed test cell's traceback to its last line, which names the problem.

    A full traceback quotes the lines around the failure, and so the hidden tests' source.
    """

    enabled = True

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if role(cell) == "tests":
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
