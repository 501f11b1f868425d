# figures stage rules (see workflow/bows for the library they call).
