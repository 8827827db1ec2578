"""The application's use cases: one module per area, each a handful of verbs `verb(ctx, …)`.

    models         deploy, check, overview, source, diff, move cases to a version, test run
    cases          start, case file, case list, failed cases (retry, complete parties, close)
    tasks          inbox, task page, claim / release / hand over, complete
    timers         the timer worker's sweep
    events         signals and messages, broadcasts
    casefile       comments, documents, the person of a child's case
    notifications  daily overview, outbox delivery
    board          the deadline board and its figures
    accounts       actors by user name, health
    clock          today, the simulation clock

`kernel` owns the step every change of a case goes through (lock → load → run → save →
index → audit → timers fired); `context.Context` carries the store, the clock and the
caches. Who may do what is decided in workflows.policy.
"""
