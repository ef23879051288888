"""`make demo`: the whole Bedrock Usage Monitor pipeline on an embedded AWS emulator (moto), offline.

Creates the stack's resources from the real template.yaml, turns on invocation logging through
LoggingSetupFunction as CloudFormation would, writes 15 days of realistic Bedrock traffic, runs
ReportFunction with events/24h.json and one alarm through AlarmRouterFunction, and writes the emails
to build/demo/. Where the emulator cannot do what AWS does, it says so in one line and never fakes a
result: emulator.py lists those gaps and how the demo stands in for each.

Usage: python -m scripts.demo [--per-day N] [--days N] [--seed N] [--accounts N] [--out DIR] [--now ISO-8601]

One module per step, in the order run.py's STEPS runs them:
    emulator.py      moto in this process, and the stand-ins for what it cannot do
    stack.py         template.yaml's resources, through moto's CloudFormation (resources.py: the rest)
    logging_setup.py LoggingSetupFunction's Create, as CloudFormation sends it
    traffic.py       days of Bedrock traffic, written where Bedrock writes it (scripts/traffic.py makes it)
    accounts.py      with --accounts N: emulated source accounts, each with its own log bucket and traffic
    report.py        ReportFunction with events/24h.json; the digest email
    alarm.py         one alarm notification through AlarmRouterFunction; its email
    summary.py       the report as JSON and build/demo/summary.json
functions.py runs a stack's function the way the Lambda runtime does; mail.py writes the emails sent.
"""
