"""The checkpoint state machine: its ASL (data both infra/ and local/ load) and its execution input."""
