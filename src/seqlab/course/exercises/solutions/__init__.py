"""seqlab's own solutions to the course exercises, in the course's style (one function per exercise, the
blanks between `### START CODE HERE ###` and `### END CODE HERE ###` filled in). The exercise templates are
made from these files by emptying those blocks (seqlab.course.exercises.templates)."""
