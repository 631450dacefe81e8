package io.tandem.media.session;

/**
 * O(1) allocator of even RTP ports (the RTCP port is always the next odd one) in a fixed range.
 * A ring of free ports, oldest freed first, plus each free port's slot in it: allocate, release and reserve never
 * scan, never allocate, and a port is never handed out twice. Control-plane only (single thread).
 * <p>
 * Reserving a given port (a restart restoring its calls, a mirror applying its active's) swaps it with the ring's
 * head. It used to search the ring for it: with a range of tens of thousands of ports, a mirror following an active
 * at 1,000 changes a second spent a third of its applying time in that search.
 */
public final class PortAllocator
{
    public static final int EXHAUSTED = -1;
    private static final int IN_USE = -1;

    private final int minPort;
    private final int[] free;
    /** By pair index: the port's slot in {@link #free} while free, {@link #IN_USE} while handed out. */
    private final int[] slotOf;
    private int head;
    private int size;

    public PortAllocator(final int minPort, final int maxPort)
    {
        final int first = (minPort + 1) & ~1;
        if (first < 1024 || maxPort > 65535 || maxPort <= first)
        {
            throw new IllegalArgumentException("bad port range " + minPort + "-" + maxPort);
        }
        this.minPort = first;
        final int pairs = (maxPort - first + 1) / 2;
        free = new int[pairs];
        slotOf = new int[pairs];
        for (int i = 0; i < pairs; i++)
        {
            free[i] = first + 2 * i;
            slotOf[i] = i;
        }
        size = pairs;
    }

    /** @return an even port whose odd successor is also reserved, or {@link #EXHAUSTED}. */
    public int allocate()
    {
        if (size == 0)
        {
            return EXHAUSTED;
        }
        final int port = free[head];
        head = (head + 1) % free.length;
        size--;
        slotOf[(port - minPort) >> 1] = IN_USE;
        return port;
    }

    /** Reserve a specific port (restoring a persisted or replicated call): it leaves the ring wherever it sits. */
    public boolean reserve(final int port)
    {
        final int index = (port - minPort) >> 1;
        if (port < minPort || (port & 1) != 0 || index >= slotOf.length || slotOf[index] == IN_USE)
        {
            return false;
        }
        final int slot = slotOf[index];
        final int headPort = free[head];
        free[slot] = headPort;
        slotOf[(headPort - minPort) >> 1] = slot;
        free[head] = port;
        head = (head + 1) % free.length;
        size--;
        slotOf[index] = IN_USE;
        return true;
    }

    public void release(final int port)
    {
        final int index = (port - minPort) >> 1;
        if (port < minPort || index >= slotOf.length || slotOf[index] != IN_USE)
        {
            return;
        }
        final int slot = (head + size) % free.length;
        free[slot] = port;
        slotOf[index] = slot;
        size++;
    }

    public boolean isInUse(final int port)
    {
        final int index = (port - minPort) >> 1;
        return port >= minPort && index < slotOf.length && slotOf[index] == IN_USE;
    }

    public int available()
    {
        return size;
    }

    public int capacity()
    {
        return free.length;
    }
}
