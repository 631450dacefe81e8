package io.tandem.media.session;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Call records a start could not restore, kept aside rather than deleted: one file per call in a directory next to
 * the sessions file ({@code sessions.cm3.aside/}), holding the call-id, the reason and the record's bytes exactly as
 * the sessions file had them. Every start tries them again; one that restores goes back into the sessions file
 * and its file here is removed. An operator can list, copy or delete the files; nothing else touches them.
 */
final class AsideRecords
{
    private static final int MAGIC = 0x54414e44; // "TAND"
    private static final int FORMAT = 1;
    private static final String SUFFIX = ".call";

    private final Path dir;

    AsideRecords(final File sessionsFile)
    {
        dir = new File(sessionsFile.getPath() + ".aside").toPath();
    }

    Path directory()
    {
        return dir;
    }

    /** Keep {@code record} aside under {@code callId}, replacing what was kept for it; durable when this returns. */
    void put(final String callId, final String reason, final byte[] record)
    {
        try
        {
            Files.createDirectories(dir);
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream(record.length + 64);
            try (DataOutputStream out = new DataOutputStream(bytes))
            {
                out.writeInt(MAGIC);
                out.writeByte(FORMAT);
                writeBytes(out, callId.getBytes(StandardCharsets.UTF_8));
                writeBytes(out, reason.getBytes(StandardCharsets.UTF_8));
                writeBytes(out, record);
            }
            final Path target = fileOf(callId);
            final Path temporary = dir.resolve(target.getFileName() + ".tmp");
            Files.write(temporary, bytes.toByteArray(), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try
            {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (final AtomicMoveNotSupportedException ex)
            {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot keep call " + callId + " aside in " + dir, ex);
        }
    }

    /** Forget what was kept for {@code callId} (it is back in the sessions file). */
    void remove(final String callId)
    {
        try
        {
            Files.deleteIfExists(fileOf(callId));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot remove " + fileOf(callId), ex);
        }
    }

    /**
     * Every call kept aside. A file that is not one of ours (unreadable, another format) is reported on standard
     * error and left where it is.
     */
    List<SessionTable.Aside> all()
    {
        final List<SessionTable.Aside> found = new ArrayList<>();
        if (!Files.isDirectory(dir))
        {
            return found;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX))
        {
            for (final Path file : files)
            {
                try
                {
                    found.add(read(file));
                }
                catch (final IOException | IllegalArgumentException ex)
                {
                    System.err.println("tandem: cannot read the call kept aside in " + file + ": " + ex.getMessage());
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot list " + dir, ex);
        }
        return found;
    }

    private static SessionTable.Aside read(final Path file) throws IOException
    {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file)))
        {
            if (in.readInt() != MAGIC || in.readUnsignedByte() != FORMAT)
            {
                throw new IllegalArgumentException("not a call kept aside by this version of Tandem");
            }
            final String callId = new String(readBytes(in), StandardCharsets.UTF_8);
            final String reason = new String(readBytes(in), StandardCharsets.UTF_8);
            return new SessionTable.Aside(callId, reason, readBytes(in));
        }
    }

    /** The file of a call: named by a digest, since a Call-ID may hold any character and be of any length. */
    private Path fileOf(final String callId)
    {
        try
        {
            final byte[] digest = MessageDigest.getInstance("SHA-256").digest(callId.getBytes(StandardCharsets.UTF_8));
            return dir.resolve(HexFormat.of().formatHex(digest, 0, 16) + SUFFIX);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static void writeBytes(final DataOutputStream out, final byte[] bytes) throws IOException
    {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] readBytes(final DataInputStream in) throws IOException
    {
        final int length = in.readInt();
        if (length < 0 || length > 1 << 20)
        {
            throw new IllegalArgumentException("bad length " + length);
        }
        final byte[] bytes = in.readNBytes(length);
        if (bytes.length != length)
        {
            throw new IllegalArgumentException("truncated");
        }
        return bytes;
    }
}
