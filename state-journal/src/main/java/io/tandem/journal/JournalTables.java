package io.tandem.journal;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A node's copy of its tables as journaled, on the node's thread only: the active serves snapshots from it, the
 * mirror compares what it applies with it, and either may become the other without reading its host's store.
 */
final class JournalTables
{
    private final Map<Integer, Map<Key, byte[]>> tables = new HashMap<>();

    /** A table key: bytes compared by value. */
    record Key(byte[] bytes)
    {
        @Override
        public boolean equals(final Object other)
        {
            return other instanceof Key key && Arrays.equals(bytes, key.bytes);
        }

        @Override
        public int hashCode()
        {
            return Arrays.hashCode(bytes);
        }
    }

    /** @return the value the key held before, or null. */
    byte[] put(final int table, final byte[] key, final byte[] value)
    {
        return tables.computeIfAbsent(table, (t) -> new HashMap<>()).put(new Key(key), value);
    }

    /** @return whether the key was there. */
    boolean remove(final int table, final byte[] key)
    {
        final Map<Key, byte[]> rows = tables.get(table);
        return rows != null && rows.remove(new Key(key)) != null;
    }

    /** Every row of every table, in no particular order. */
    void forEach(final RowConsumer consumer)
    {
        for (final Map.Entry<Integer, Map<Key, byte[]>> table : tables.entrySet())
        {
            for (final Map.Entry<Key, byte[]> row : table.getValue().entrySet())
            {
                consumer.accept(table.getKey(), row.getKey().bytes(), row.getValue());
            }
        }
    }

    /** Each table's keys, copied, so the consumer may remove rows. */
    void forEachKeyCopy(final BiConsumer<Integer, Key[]> consumer)
    {
        for (final Map.Entry<Integer, Map<Key, byte[]>> table : tables.entrySet())
        {
            consumer.accept(table.getKey(), table.getValue().keySet().toArray(new Key[0]));
        }
    }

    /** One row of a table. */
    @FunctionalInterface
    interface RowConsumer
    {
        void accept(int table, byte[] key, byte[] value);
    }
}
