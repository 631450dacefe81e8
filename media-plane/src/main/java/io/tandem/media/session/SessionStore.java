package io.tandem.media.session;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * The persisted call table: call-id to an encoded {@link CallRecord}, in an off-heap Chronicle Map file, so a
 * media plane started again on the same file finds every live call. Written by the control plane only, never
 * on the packet path.
 * <p>
 * Chronicle Map hands its callbacks a value instance it reuses for the next entry of the same size, so nothing
 * here lets a caller keep a value it did not copy. Records a start cannot restore are moved to {@link AsideRecords},
 * never deleted.
 */
public final class SessionStore implements SessionTable
{
    private final ChronicleMap<CharSequence, byte[]> map;
    private final File openMarker;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final AsideRecords aside;
    private final File settingsFile;
    private long recoveryDropped;

    public SessionStore(final File file, final long maxCalls)
    {
        final File parent = file.getAbsoluteFile().getParentFile();
        if (!parent.isDirectory() && !parent.mkdirs())
        {
            throw new IllegalStateException("cannot create the sessions directory " + parent);
        }
        checkSafe(parent.toPath(), file.toPath());
        lockFile = openLockFile(file);
        lock = lock(lockFile, file);
        try
        {
            aside = new AsideRecords(file);
            openMarker = new File(file.getPath() + ".open");
            settingsFile = new File(file.getPath() + ".settings");
            final Layout wanted = new Layout(maxCalls, CallRecord.AVERAGE_CALL_ID_LENGTH, CallRecord.AVERAGE_ENCODED_LENGTH);
            final boolean exists = file.length() > 0;
            final Layout made = exists ? Layout.read(settingsFile) : wanted; // null: not recorded, or unreadable
            ChronicleMap<CharSequence, byte[]> opened = exists ? open(file, made, wanted) : create(file, wanted);
            if (!wanted.equals(made)) // another layout, or a file from before layouts were kept beside it
            {
                opened = resize(opened, file, made, wanted);
            }
            map = opened;
            Files.writeString(openMarker.toPath(), Long.toString(ProcessHandle.current().pid()));
        }
        catch (final IOException | RuntimeException ex)
        {
            closeLock();
            if (ex instanceof IOException io)
            {
                throw new UncheckedIOException("cannot open the sessions file " + file, io);
            }
            throw (RuntimeException)ex;
        }
    }

    /** A new file, made with {@code layout}, which is written beside it first. */
    private ChronicleMap<CharSequence, byte[]> create(final File file, final Layout layout) throws IOException
    {
        layout.write(settingsFile);
        return layout.builder().createPersistedTo(file);
    }

    /**
     * Open an existing file as it was made ({@code made}, null when no layout was recorded beside it): by its own
     * header; after a crash (the last process's {@code .open} marker is still there: a plain open would wait a minute
     * for that dead process) it is recovered, and should its header be damaged, Chronicle rebuilds it from the layout
     * the file was made with (never from this start's settings, which may differ: a header rebuilt from another
     * --max-calls mis-reads every segment). A file without a layout beside it (made before there was one) is
     * recovered only if its header is sound. Records Chronicle finds damaged on the way (a write cut by the crash)
     * are counted and logged: it cannot keep them.
     */
    private ChronicleMap<CharSequence, byte[]> open(final File file, final Layout made, final Layout wanted)
        throws IOException
    {
        final ChronicleMapBuilder<CharSequence, byte[]> builder = (made != null ? made : wanted).builder();
        if (!openMarker.exists())
        {
            return builder.createPersistedTo(file);
        }
        return builder.recoverPersistedTo(file, made != null, corruption ->
        {
            recoveryDropped++;
            if (recoveryDropped <= 10)
            {
                System.err.println("tandem: recovering " + file + ": " + corruption.message() +
                    (corruption.exception() != null ? " (" + corruption.exception() + ")" : ""));
            }
        });
    }

    /**
     * Give the file the layout this start asks for (a changed --max-calls, or record sizes a newer Tandem measured):
     * every call is copied into a new file of that layout, which then replaces the old one by a rename. A crash on
     * the way leaves the old file in place, whole. A file holding more calls than the new layout would is kept as
     * it is (logged): its calls come before the setting.
     */
    private ChronicleMap<CharSequence, byte[]> resize(final ChronicleMap<CharSequence, byte[]> old, final File file,
        final Layout made, final Layout wanted) throws IOException
    {
        if (old.size() > wanted.maxCalls)
        {
            // Its calls come first: keep the file as it is, and make it anew at a later start, once it fits.
            System.err.println("tandem: sessions file " + file + " holds " + old.size() + " calls, more than --max-calls " +
                wanted.maxCalls + ": it keeps its layout (" + (made == null ? "not recorded" : made) + ") for now");
            return old;
        }
        final File next = new File(file.getPath() + ".resizing");
        Files.deleteIfExists(next.toPath());
        try (ChronicleMap<CharSequence, byte[]> copy = wanted.builder().createPersistedTo(next))
        {
            old.forEach((key, value) -> copy.put(key.toString(), value.clone()));
        }
        catch (final IOException | RuntimeException ex)
        {
            old.close();
            Files.deleteIfExists(next.toPath());
            throw ex;
        }
        final int calls = old.size();
        old.close();
        final File nextSettings = new File(settingsFile.getPath() + ".resizing");
        wanted.write(nextSettings);
        Files.move(next.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.move(nextSettings.toPath(), settingsFile.toPath(), StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
        System.err.println("tandem: sessions file " + file + " made anew for " + wanted + " (was " +
            (made == null ? "a layout not recorded" : made) + "), " + calls + " calls kept");
        return wanted.builder().createPersistedTo(file);
    }

    /** Records Chronicle's recovery after a crash found damaged and could not keep (logged). */
    public long recoveryDropped()
    {
        return recoveryDropped;
    }

    /** How a sessions file is laid out, kept beside it ({@code SESSIONS.settings}) from the moment it is made. */
    record Layout(long maxCalls, int averageKeySize, int averageValueSize)
    {
        ChronicleMapBuilder<CharSequence, byte[]> builder()
        {
            return ChronicleMapBuilder.of(CharSequence.class, byte[].class)
                .name("tandem-calls")
                .entries(maxCalls)
                .averageKeySize(averageKeySize)
                .averageValueSize(averageValueSize);
        }

        /** Written to a temporary file and renamed into place: never half a layout. */
        void write(final File to) throws IOException
        {
            final Path temporary = Path.of(to.getPath() + ".tmp");
            Files.writeString(temporary, "max-calls=" + maxCalls + "\naverage-key-size=" + averageKeySize +
                "\naverage-value-size=" + averageValueSize + "\n");
            Files.move(temporary, to.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }

        /** @return the layout written beside a file, or null if there is none (or it cannot be read). */
        static Layout read(final File from) throws IOException
        {
            if (!from.isFile())
            {
                return null;
            }
            final java.util.Properties values = new java.util.Properties();
            try (java.io.Reader in = Files.newBufferedReader(from.toPath()))
            {
                values.load(in);
            }
            try
            {
                return new Layout(Long.parseLong(values.getProperty("max-calls")),
                    Integer.parseInt(values.getProperty("average-key-size")),
                    Integer.parseInt(values.getProperty("average-value-size")));
            }
            catch (final NumberFormatException ex)
            {
                System.err.println("tandem: " + from + " cannot be read (" + ex.getMessage() + "); the sessions " +
                    "file is opened by its own header");
                return null;
            }
        }

        @Override
        public String toString()
        {
            return maxCalls + " calls, records of " + averageKeySize + "+" + averageValueSize + " bytes on average";
        }
    }

    /**
     * Refuse a sessions file another user could have planted or could swap: one that is a symbolic link (it would
     * write wherever the link points), or one in a directory that another user owns or that every user may write
     * without the sticky bit (they could replace it). /dev/shm is such a directory with the sticky bit, which is
     * why the file belongs in a directory of its own under it (or in /run/tandem, as the systemd unit does).
     */
    static void checkSafe(final Path directory, final Path file)
    {
        try
        {
            if (Files.isSymbolicLink(file))
            {
                throw new IllegalStateException("sessions file " + file + " is a symbolic link: refusing to write " +
                    "through it (remove it, or name the real file)");
            }
            final int mode = (Integer)Files.getAttribute(directory, "unix:mode");
            final int owner = (Integer)Files.getAttribute(directory, "unix:uid");
            final int self = (Integer)Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            final boolean othersWrite = (mode & 0002) != 0 && (mode & 01000) == 0;
            if (othersWrite || (owner != self && owner != 0))
            {
                throw new IllegalStateException("the sessions directory " + directory + " is " + (othersWrite ?
                    "writable by every user" : "owned by another user (uid " + owner + ")") + ": anyone there could " +
                    "replace the sessions file; use a directory of Tandem's own (chmod o-w, or /run/tandem)");
            }
            final int fileOwner = Files.exists(file) ? (Integer)Files.getAttribute(file, "unix:uid") : self;
            if (fileOwner != self && fileOwner != 0)
            {
                throw new IllegalStateException("sessions file " + file + " belongs to another user (uid " + fileOwner +
                    "), who could change it under Tandem: refusing it");
            }
        }
        catch (final UnsupportedOperationException | IllegalArgumentException | IOException ex)
        {
            // not a Unix file system (or no /proc): nothing more to check
        }
    }

    /** The lock file beside the sessions file, opened without following a symbolic link planted there. */
    private static FileChannel openLockFile(final File file)
    {
        try
        {
            return FileChannel.open(new File(file.getPath() + ".lock").toPath(), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open the lock file of " + file, ex);
        }
    }

    /**
     * One process per sessions file: an exclusive lock (flock) on its lock file, held while open and let go by the
     * kernel when the process dies, however it dies; a second Tandem on the same file stops at once.
     */
    private static FileLock lock(final FileChannel channel, final File file)
    {
        FileLock held = null;
        try
        {
            held = channel.tryLock();
        }
        catch (final OverlappingFileLockException ex)
        {
            held = null; // this JVM has it open already
        }
        catch (final IOException ex)
        {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot lock " + file + ".lock", ex);
        }
        if (held == null)
        {
            closeQuietly(channel);
            throw new IllegalStateException("sessions file " + file + " is in use by another Tandem (it holds " + file +
                ".lock)");
        }
        return held;
    }

    private static void closeQuietly(final FileChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // closing after a failure
        }
    }

    private void closeLock()
    {
        try
        {
            lock.release();
        }
        catch (final IOException ignored)
        {
            // the channel's close lets it go too
        }
        closeQuietly(lockFile);
    }

    @Override
    public void put(final String callId, final byte[] record)
    {
        map.put(callId, record);
    }

    /** The encoded record of a call, or null. */
    @Override
    public byte[] get(final String callId)
    {
        return map.get(callId);
    }

    @Override
    public void remove(final String callId)
    {
        map.remove(callId);
    }

    @Override
    public int size()
    {
        return map.size();
    }

    /** Every call in the file, each record copied out of the map (never a value the map may reuse). */
    @Override
    public List<StoredCall> calls()
    {
        final List<StoredCall> calls = new ArrayList<>(map.size());
        map.forEach((key, value) -> calls.add(new StoredCall(key.toString(), value.clone())));
        return calls;
    }

    /**
     * Move a call that cannot be restored out of the table, keeping its record aside with the reason: written
     * aside (durably) before it leaves the table, so a crash between the two leaves it in both, never in neither.
     */
    @Override
    public void setAside(final String callId, final String reason, final byte[] record)
    {
        aside.put(callId, reason, record);
        map.remove(callId);
    }

    /** The calls kept aside by this and earlier starts. */
    @Override
    public List<Aside> asideCalls()
    {
        return aside.all();
    }

    /** A call kept aside has been restored: back into the table first, then out of the aside directory. */
    @Override
    public void takeBack(final String callId, final byte[] record)
    {
        map.put(callId, record);
        aside.remove(callId);
    }

    /** Forget a call kept aside whose record the table holds again, identical. */
    @Override
    public void dropAside(final String callId)
    {
        aside.remove(callId);
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
        closeLock();
    }
}
