"""Benchmarks of the waba-webhooks provider at solution-provider scale (issue 5).

``python -m benchmarks`` drives the real pulumi CLI (Automation API, file backend) through
create, no-change preview, no-change up, refresh and destroy of stacks of N
`PhoneCallbackOverride`s against the local Graph API emulator with a simulated latency, and the
same steps for the floor: the same stack shape built on a no-op dynamic resource
(`benchmarks.noop`). Not part of the test command; see BENCHMARKS.md for results.
"""
