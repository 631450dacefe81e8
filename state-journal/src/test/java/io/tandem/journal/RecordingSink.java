package io.tandem.journal;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** A mirror's table for tests: what the journal applied, by key, and how often a key was put. */
final class RecordingSink implements JournalSink
{
    final Map<String, String> rows = new ConcurrentHashMap<>();
    final AtomicLong puts = new AtomicLong();
    volatile JournalNode.Role role;

    @Override
    public void onPut(final int table, final byte[] key, final byte[] value)
    {
        puts.incrementAndGet();
        rows.put(table + "/" + new String(key, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
    }

    @Override
    public void onRemove(final int table, final byte[] key)
    {
        rows.remove(table + "/" + new String(key, StandardCharsets.UTF_8));
    }

    @Override
    public void onRoleChange(final JournalNode.Role role, final long epoch)
    {
        this.role = role;
    }
}
