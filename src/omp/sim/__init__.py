"""The factory simulator: plant behaviour plus real protocol servers and publishers.

``plant`` lays out the enterprise, ``catalog`` says what each machine kind is,
``engine`` runs the behaviour tick by tick from a seed, ``truth`` records what
really happened, and ``servers`` put the plant on OPC UA, Sparkplug B, Modbus
TCP and MQTT JSON. ``omp demo`` and ``omp sim`` (``omp.runtime.demo``) run it.
May import ``omp.bus``, ``omp.model`` and ``omp.core`` only.
"""
