"""How a failure cluster was fixed elsewhere: the edits of later passing attempts with the same cause."""
