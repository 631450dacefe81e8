package io.tandem.media.session;

/**
 * O(1) allocator of even RTP ports (the RTCP port is always the next odd one) in a fixed range.
 * A ring of free ports plus an in-use bitmap: allocate and release never scan, never allocate,
 * and a port is never handed out twice. Control-plane only (single thread).
 */
public final class PortAllocator
{
    public static final int EXHAUSTED = -1;

    private final int minPort;
    private final int[] free;
    private final boolean[] inUse;
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
        inUse = new boolean[pairs];
        for (int i = 0; i < pairs; i++)
        {
            free[i] = first + 2 * i;
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
        inUse[(port - minPort) >> 1] = true;
        return port;
    }

    /** Reserve a specific port (used when re-opening persisted sessions). O(1) amortised: the ring skips it lazily. */
    public boolean reserve(final int port)
    {
        final int index = (port - minPort) >> 1;
        if (port < minPort || (port & 1) != 0 || index >= inUse.length || inUse[index])
        {
            return false;
        }
        // Remove from ring: swap with head element, then advance head.
        for (int i = 0, slot = head; i < size; i++, slot = (slot + 1) % free.length)
        {
            if (free[slot] == port)
            {
                free[slot] = free[head];
                free[head] = port;
                head = (head + 1) % free.length;
                size--;
                inUse[index] = true;
                return true;
            }
        }
        return false;
    }

    public void release(final int port)
    {
        final int index = (port - minPort) >> 1;
        if (port < minPort || index >= inUse.length || !inUse[index])
        {
            return;
        }
        inUse[index] = false;
        free[(head + size) % free.length] = port;
        size++;
    }

    public boolean isInUse(final int port)
    {
        final int index = (port - minPort) >> 1;
        return port >= minPort && index < inUse.length && inUse[index];
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
