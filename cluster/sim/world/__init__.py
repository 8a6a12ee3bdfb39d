"""The simulated world every simulation shares: virtual time, network, disks, machines, seed search.

Generic over what runs on the simulated machines: a program is any object created by a factory
when its machine (re)starts, receiving messages and scheduling timers through its `Machine`.
"""
