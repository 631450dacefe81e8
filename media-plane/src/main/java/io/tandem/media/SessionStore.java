package io.tandem.media;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.function.BiConsumer;

import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * The persisted call table: call-id to an encoded {@link CallRecord}, in an off-heap Chronicle Map file, so a
 * media plane started again on the same file finds every live call. Written by the control plane only, never
 * on the packet path.
 */
public final class SessionStore implements AutoCloseable
{
    private final ChronicleMap<CharSequence, byte[]> map;
    private final File openMarker;

    public SessionStore(final File file, final long maxCalls)
    {
        final File parent = file.getAbsoluteFile().getParentFile();
        if (!parent.isDirectory() && !parent.mkdirs())
        {
            throw new IllegalStateException("cannot create the sessions directory " + parent);
        }
        try
        {
            final ChronicleMapBuilder<CharSequence, byte[]> builder = ChronicleMapBuilder.of(CharSequence.class, byte[].class)
                .name("tandem-calls")
                .entries(maxCalls)
                .averageKeySize(CallRecord.AVERAGE_CALL_ID_LENGTH)
                .averageValueSize(CallRecord.AVERAGE_ENCODED_LENGTH);
            openMarker = new File(file.getPath() + ".open");
            if (openMarker.exists())
            {
                // The last process on this file did not close it (killed, crashed): a plain open would wait a
                // minute for that dead process, so recover the file instead. The marker holds the owner's pid.
                final long owner = readPid(openMarker);
                if (owner > 0 && owner != ProcessHandle.current().pid() && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false))
                {
                    throw new IllegalStateException("sessions file " + file + " is in use by running process " + owner);
                }
                map = builder.recoverPersistedTo(file, true);
            }
            else
            {
                map = builder.createPersistedTo(file);
            }
            Files.writeString(openMarker.toPath(), Long.toString(ProcessHandle.current().pid()));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open the sessions file " + file, ex);
        }
    }

    public void put(final String callId, final byte[] record)
    {
        map.put(callId, record);
    }

    /** The encoded record of a call, or null. */
    public byte[] get(final String callId)
    {
        return map.get(callId);
    }

    public void remove(final String callId)
    {
        map.remove(callId);
    }

    public int size()
    {
        return map.size();
    }

    public void forEach(final BiConsumer<String, byte[]> action)
    {
        map.forEach((key, value) -> action.accept(key.toString(), value));
    }

    private static long readPid(final File marker)
    {
        try
        {
            return Long.parseLong(Files.readString(marker.toPath()).trim());
        }
        catch (final IOException | NumberFormatException ex)
        {
            return -1;
        }
    }

    /** Close cleanly, so the next open is a plain one rather than a recovery. */
    @Override
    public void close()
    {
        map.close();
        if (!openMarker.delete())
        {
            System.err.println("tandem: could not remove " + openMarker);
        }
    }
}
