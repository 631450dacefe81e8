package io.tandem.journal;

import org.agrona.concurrent.status.AtomicCounter;

/** Makes the journal's counters in the host process's counters file, with a Prometheus name and help text. */
@FunctionalInterface
public interface CounterFactory
{
    AtomicCounter newCounter(String label, String metric, boolean gauge, String help);
}
