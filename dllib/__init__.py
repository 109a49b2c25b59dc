"""Reference pieces of earlier chapters, generated from solutions/ by `./course build`."""
