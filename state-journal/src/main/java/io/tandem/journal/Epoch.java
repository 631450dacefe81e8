package io.tandem.journal;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A node's epoch, persisted in a small file so a restart keeps it: every promotion raises it, and a record from a
 * lower epoch than the one a node knows is refused, so a demoted node can never overwrite the new active.
 */
public final class Epoch
{
    private final Path file;
    private long value;

    public Epoch(final File file)
    {
        this.file = file.toPath();
        long read = 0;
        try
        {
            if (Files.exists(this.file))
            {
                read = Long.parseLong(Files.readString(this.file, StandardCharsets.US_ASCII).trim());
            }
        }
        catch (final IOException | NumberFormatException ex)
        {
            throw new IllegalStateException("cannot read the epoch file " + file + ": " + ex.getMessage(), ex);
        }
        value = read;
    }

    public long get()
    {
        return value;
    }

    /** Raise the epoch above both this node's and {@code seen}, and persist it before returning. */
    public long raiseAbove(final long seen)
    {
        set(Math.max(value, seen) + 1);
        return value;
    }

    /** Adopt a higher epoch seen from the active peer, persisted. */
    public void adopt(final long seen)
    {
        if (seen > value)
        {
            set(seen);
        }
    }

    private void set(final long epoch)
    {
        try
        {
            final Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            final Path temporary = parent.resolve(file.getFileName() + ".tmp");
            Files.writeString(temporary, Long.toString(epoch), StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try
            {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (final AtomicMoveNotSupportedException ex)
            {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            value = epoch;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot persist epoch " + epoch + " in " + file, ex);
        }
    }
}
