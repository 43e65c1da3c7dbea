"""What every resource shares, beside the resources themselves (`waba_webhooks.resources`).

``kind`` says what one resource is as both doors see it (`Kind`), ``base`` holds the base of
every resource's rules (settings, the Graph client, check plumbing) and the rules of overrides
(takeover, clear), ``diff`` a rule's diff per property, ``props`` builds a resource's inputs in
a program.
"""
