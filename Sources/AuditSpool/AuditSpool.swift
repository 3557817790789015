/// The disk spool of a network output.
