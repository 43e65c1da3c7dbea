"""The Pulumi resources, one per file with its provider and ``Args`` type.

``override`` holds what every provider shares (configure, the Graph client, check plumbing, the
takeover and delete rules), ``resource`` how a resource's property bag is built, and ``routing``
turns the routing table of stack config into resources.
"""
