package io.tandem.media.relay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.agrona.CloseHelper;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntHashSet;

/**
 * Datagram I/O with the Linux system calls made directly through FFM: one epoll set for every media socket,
 * {@code recvmmsg} for up to {@link #BATCH} datagrams of a readable socket in one call, {@code sendto} for each
 * forwarded packet straight out of the receive buffer. Against {@link NioTransport} this saves the empty read
 * that ends every NIO drain (a readable socket costs one receive call, not two) and the JVM's per-call
 * bookkeeping. Sockets are still opened and bound by NIO; this transport only borrows their descriptors.
 * Readiness is edge-triggered: a socket is read when datagrams arrive, and a read that fills a whole batch (more
 * may be waiting) or fails (an ICMP error is reported before queued datagrams) puts the socket on a list read
 * again on the next pass. So a flooded stream cannot starve the others, and a socket read empty is not polled
 * again by the kernel (level-triggered epoll checks every reported socket once more on the next wait).
 */
public final class EpollTransport implements Transport
{
    public static final int BATCH = 16;
    private static final int MAX_EVENTS = 256;

    private final int maxPacket;
    private final Arena arena = Arena.ofShared();
    private final int epfd;
    private final int wakeFd;
    private final MemorySegment events;
    private final MemorySegment vector;
    private final MemorySegment names;
    private final MemorySegment wakeValue;
    private final MemorySegment drained;
    private final MemorySegment scratch;
    private final ByteBuffer[] views = new ByteBuffer[BATCH];
    private final long[] bases = new long[BATCH];
    private final Int2ObjectHashMap<Endpoint> byFd = new Int2ObjectHashMap<>();
    /** Descriptors that were readable before the agent took their endpoint (edge-triggered: no second event). */
    private final IntHashSet readyBeforeRegistered = new IntHashSet();
    private Endpoint[] pending = new Endpoint[64];
    private Endpoint[] pendingNext = new Endpoint[64];
    private int pendingCount;
    private ByteBuffer currentView;
    private long currentBase;
    /** Sends of the datagrams just received, out of one socket, sent together by {@link #flush}. */
    private final MemorySegment txVector;
    private final MemorySegment txIovecs;
    private Endpoint txFrom;
    private int txCount;
    private Receiver txReceiver;
    private volatile boolean closed;

    /** @param maxPacket the largest datagram accepted; a longer one is handed on with a length above it. */
    public EpollTransport(final int maxPacket)
    {
        if (!LinuxNet.available())
        {
            throw new IllegalStateException("the epoll transport needs --add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
        }
        this.maxPacket = maxPacket;
        final int slot = maxPacket + 1;
        try
        {
            epfd = LinuxNet.epollCreate();
            wakeFd = LinuxNet.eventfd();
            LinuxNet.epollCtl(epfd, LinuxNet.EPOLL_CTL_ADD, wakeFd, LinuxNet.EPOLLIN);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        events = arena.allocate(MAX_EVENTS * LinuxNet.EPOLL_EVENT_SIZE, 8);
        vector = arena.allocate(BATCH * LinuxNet.MMSGHDR_SIZE, 8);
        names = arena.allocate((long)BATCH * LinuxNet.SOCKADDR_SIZE, 8);
        final MemorySegment iovecs = arena.allocate(BATCH * LinuxNet.IOVEC_SIZE, 8);
        final MemorySegment buffers = arena.allocate((long)BATCH * slot, 64);
        for (int i = 0; i < BATCH; i++)
        {
            final MemorySegment buffer = buffers.asSlice((long)i * slot, slot);
            bases[i] = buffer.address();
            views[i] = buffer.asByteBuffer();
            iovecs.set(ValueLayout.JAVA_LONG, i * LinuxNet.IOVEC_SIZE, buffer.address());
            iovecs.set(ValueLayout.JAVA_LONG, i * LinuxNet.IOVEC_SIZE + 8, slot);
            final long header = i * LinuxNet.MMSGHDR_SIZE;
            vector.set(ValueLayout.JAVA_LONG, header + LinuxNet.MSG_NAME, names.address() + (long)i * LinuxNet.SOCKADDR_SIZE);
            vector.set(ValueLayout.JAVA_LONG, header + LinuxNet.MSG_IOV, iovecs.address() + i * LinuxNet.IOVEC_SIZE);
            vector.set(ValueLayout.JAVA_LONG, header + LinuxNet.MSG_IOVLEN, 1);
        }
        txVector = arena.allocate(BATCH * LinuxNet.MMSGHDR_SIZE, 8);
        txIovecs = arena.allocate(BATCH * LinuxNet.IOVEC_SIZE, 8);
        for (int i = 0; i < BATCH; i++)
        {
            final long header = i * LinuxNet.MMSGHDR_SIZE;
            txVector.set(ValueLayout.JAVA_LONG, header + LinuxNet.MSG_IOV, txIovecs.address() + i * LinuxNet.IOVEC_SIZE);
            txVector.set(ValueLayout.JAVA_LONG, header + LinuxNet.MSG_IOVLEN, 1);
        }
        wakeValue = Arena.ofAuto().allocate(8, 8); // outlives close(): a late wakeup() from another thread is harmless
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1);
        drained = arena.allocate(8, 8);
        scratch = arena.allocate(slot, 8);
    }

    /**
     * A socket opened through FFM ({@link LinuxNet#openUdp}: socket, one to four setsockopt, bind; no fcntl, no
     * getsockname) and added to epoll at once, from the control side: epoll is safe to change from any thread.
     */
    @Override
    public Endpoint open(final InetAddress address, final int port, final boolean rtcp, final int tos,
        final boolean freebind) throws IOException
    {
        final int fd = LinuxNet.openUdp(address, port, tos, freebind);
        try
        {
            LinuxNet.epollCtl(epfd, LinuxNet.EPOLL_CTL_ADD, fd, LinuxNet.EPOLLIN | LinuxNet.EPOLLET);
        }
        catch (final IOException ex)
        {
            LinuxNet.close(fd);
            throw ex;
        }
        return new Endpoint(fd, address, port, rtcp);
    }

    @Override
    public boolean watchesOpenedSockets()
    {
        return true;
    }

    @Override
    public void register(final Endpoint endpoint) throws IOException
    {
        // A socket this transport opened (no channel) is in the epoll set since then; a channel's joins it now.
        final boolean opened = endpoint.channel == null;
        final int fd = opened ? endpoint.fd : LinuxNet.fd(endpoint.channel);
        endpoint.txAddress = Arena.ofAuto().allocate(LinuxNet.SOCKADDR_SIZE, 8);
        endpoint.txTo = null;
        endpoint.readAgain = false;
        if (!opened)
        {
            LinuxNet.epollCtl(epfd, LinuxNet.EPOLL_CTL_ADD, fd, LinuxNet.EPOLLIN | LinuxNet.EPOLLET);
        }
        endpoint.fd = fd;
        byFd.put(fd, endpoint); // only once epoll took it: a failed registration leaves nothing behind
        if (readyBeforeRegistered.remove(fd))
        {
            readAgainLater(endpoint); // its edge came before the agent knew it: read it on the next pass
        }
    }

    @Override
    public void close(final Endpoint endpoint)
    {
        final int fd = endpoint.fd;
        endpoint.fd = -1;
        if (fd >= 0 && byFd.get(fd) == endpoint)
        {
            byFd.remove(fd);
        }
        if (endpoint.channel == null)
        {
            LinuxNet.close(fd); // the only descriptor of its socket: closing it also takes it out of the epoll set
            return;
        }
        if (fd >= 0)
        {
            try
            {
                LinuxNet.epollCtl(epfd, LinuxNet.EPOLL_CTL_DEL, fd, 0);
            }
            catch (final IOException ignored)
            {
                // closing the socket below removes it from the set anyway
            }
        }
        CloseHelper.quietClose(endpoint.channel); // not registered with any Selector: the descriptor closes now
    }

    @Override
    public int poll(final Receiver receiver)
    {
        final int received = readAgain(receiver);
        return received + dispatch(receiver, LinuxNet.epollWait(epfd, events, MAX_EVENTS, 0));
    }

    @Override
    public int pollBlocking(final Receiver receiver, final long timeoutMs)
    {
        final int received = readAgain(receiver);
        final int timeout = received > 0 || pendingCount > 0 ? 0 : (int)Math.max(1, Math.min(timeoutMs, Integer.MAX_VALUE));
        return received + dispatch(receiver, LinuxNet.epollWait(epfd, events, MAX_EVENTS, timeout));
    }

    /** Read the sockets the last pass left with datagrams possibly waiting. */
    private int readAgain(final Receiver receiver)
    {
        final int count = pendingCount;
        if (count == 0)
        {
            return 0;
        }
        final Endpoint[] now = pending;
        pending = pendingNext;
        pendingNext = now;
        pendingCount = 0;
        int received = 0;
        for (int i = 0; i < count; i++)
        {
            final Endpoint endpoint = now[i];
            now[i] = null;
            endpoint.readAgain = false;
            if (endpoint.fd >= 0)
            {
                received += receive(endpoint, receiver, false);
            }
        }
        return received;
    }

    private void readAgainLater(final Endpoint endpoint)
    {
        if (endpoint.readAgain || endpoint.fd < 0)
        {
            return;
        }
        if (pendingCount == pending.length)
        {
            pending = java.util.Arrays.copyOf(pending, pendingCount * 2);
            pendingNext = new Endpoint[pending.length];
        }
        endpoint.readAgain = true;
        pending[pendingCount++] = endpoint;
    }

    private int dispatch(final Receiver receiver, final int ready)
    {
        int received = 0;
        for (int e = 0; e < ready; e++)
        {
            final int fd = LinuxNet.eventFd(events, e);
            if (fd == wakeFd)
            {
                LinuxNet.read(wakeFd, drained);
                continue;
            }
            Endpoint endpoint = byFd.get(fd);
            if (endpoint == null)
            {
                receiver.beforeReceive(); // a watched socket whose command is queued: take it first
                endpoint = byFd.get(fd);
            }
            if (endpoint != null)
            {
                received += receive(endpoint, receiver, true);
            }
            else
            {
                readyBeforeRegistered.add(fd); // watched, its command not queued yet (or a socket closed since)
            }
        }
        return received;
    }

    @Override
    public boolean readsInOrder()
    {
        return true;
    }

    private int receive(final Endpoint endpoint, final Receiver receiver, final boolean onEvent)
    {
        receiver.beforeReceive();
        if (endpoint.fd < 0)
        {
            return 0; // a command just applied closed it
        }
        final MemorySegment vector = this.vector;
        for (int i = 0; i < BATCH; i++)
        {
            vector.set(ValueLayout.JAVA_INT, i * LinuxNet.MMSGHDR_SIZE + LinuxNet.MSG_NAMELEN, LinuxNet.SOCKADDR_SIZE);
        }
        txReceiver = receiver;
        final int count = LinuxNet.recvmmsg(endpoint.fd, vector, BATCH);
        if (count == BATCH || (count < 0 && onEvent))
        {
            readAgainLater(endpoint); // a full batch may leave more behind; an error may hide datagrams behind it
        }
        for (int i = 0; i < count; i++)
        {
            final int length = vector.get(ValueLayout.JAVA_INT, i * LinuxNet.MMSGHDR_SIZE + LinuxNet.MSG_LEN);
            final InetSocketAddress source = source(endpoint, (long)i * LinuxNet.SOCKADDR_SIZE);
            final ByteBuffer view = views[i];
            view.limit(Math.min(length, maxPacket)).position(0);
            currentView = view;
            currentBase = bases[i];
            receiver.onPacket(endpoint, view, length, source);
            if (endpoint.fd < 0)
            {
                break; // the receiver closed the socket
            }
        }
        flush(); // before the next recvmmsg reuses the slots the queued sends point into
        currentView = null;
        return Math.max(count, 0);
    }

    /**
     * The Java address of a datagram's source, without allocating while it stays the same as the last one seen on
     * this socket (the steady state of a call).
     */
    private InetSocketAddress source(final Endpoint endpoint, final long offset)
    {
        final MemorySegment names = this.names;
        final int family = LinuxNet.family(names, offset);
        final long key1;
        final long key2;
        final long key3;
        if (family == LinuxNet.AF_INET)
        {
            key1 = (long)family << 48 | (long)LinuxNet.port(names, offset) << 32 | LinuxNet.address4(names, offset) & 0xffffffffL;
            key2 = 0;
            key3 = 0;
        }
        else
        {
            key1 = (long)family << 48 | (long)LinuxNet.port(names, offset) << 32 | LinuxNet.scope6(names, offset) & 0xffffffffL;
            key2 = LinuxNet.address6(names, offset, 0);
            key3 = LinuxNet.address6(names, offset, 1);
        }
        if (endpoint.rxSource == null || key1 != endpoint.rxKey1 || key2 != endpoint.rxKey2 || key3 != endpoint.rxKey3)
        {
            endpoint.rxSource = LinuxNet.readSockaddr(names, offset);
            endpoint.rxKey1 = key1;
            endpoint.rxKey2 = key2;
            endpoint.rxKey3 = key3;
        }
        return endpoint.rxSource;
    }

    @Override
    public void wakeup()
    {
        if (!closed)
        {
            LinuxNet.write(wakeFd, wakeValue);
        }
    }

    @Override
    public boolean send(final Endpoint from, final ByteBuffer packet, final InetSocketAddress to)
    {
        if (from.fd < 0)
        {
            return false;
        }
        if (txCount > 0 && (from != txFrom || to != from.txTo || packet != currentView))
        {
            flush(); // one socket and one destination per sendmmsg, and in the order the receiver sent them
        }
        if (to != from.txTo)
        {
            from.txLength = LinuxNet.writeSockaddr(from.txAddress, to);
            from.txTo = to;
        }
        final int length = packet.remaining();
        if (packet == currentView)
        {
            queue(from, currentBase + packet.position(), length);
            return true;
        }
        final long address;
        if (packet.isDirect())
        {
            address = MemorySegment.ofBuffer(packet).address();
        }
        else
        {
            if (length > scratch.byteSize())
            {
                return false;
            }
            MemorySegment.copy(MemorySegment.ofBuffer(packet), 0, scratch, 0, length);
            address = scratch.address();
        }
        return LinuxNet.sendto(from.fd, address, length, from.txAddress, from.txLength) >= 0;
    }

    /**
     * A datagram just received, to be sent from its slot with the others of the batch: packets a recvmmsg brought
     * for one stream leave with one sendmmsg instead of one sendto each.
     */
    private void queue(final Endpoint from, final long address, final int length)
    {
        final long header = txCount * LinuxNet.MMSGHDR_SIZE;
        txVector.set(ValueLayout.JAVA_LONG, header + LinuxNet.MSG_NAME, from.txAddress.address());
        txVector.set(ValueLayout.JAVA_INT, header + LinuxNet.MSG_NAMELEN, from.txLength);
        txIovecs.set(ValueLayout.JAVA_LONG, txCount * LinuxNet.IOVEC_SIZE, address);
        txIovecs.set(ValueLayout.JAVA_LONG, txCount * LinuxNet.IOVEC_SIZE + 8, length);
        txFrom = from;
        txCount++;
        if (txCount == BATCH)
        {
            flush();
        }
    }

    /** Send what {@link #queue} holds; what the kernel refuses is tried once more alone, and reported if it fails. */
    private void flush()
    {
        final int count = txCount;
        if (count == 0)
        {
            return;
        }
        final Endpoint from = txFrom;
        txCount = 0;
        txFrom = null;
        final int sent = from.fd < 0 ? 0 : LinuxNet.sendmmsg(from.fd, txVector, count);
        if (sent == count)
        {
            return;
        }
        int failed = 0;
        long failedBytes = 0;
        for (int i = Math.max(sent, 0); i < count; i++)
        {
            final long header = i * LinuxNet.MMSGHDR_SIZE;
            final long length = txIovecs.get(ValueLayout.JAVA_LONG, i * LinuxNet.IOVEC_SIZE + 8);
            if (from.fd < 0 || LinuxNet.sendto(from.fd, txIovecs.get(ValueLayout.JAVA_LONG, i * LinuxNet.IOVEC_SIZE),
                length, from.txAddress, txVector.get(ValueLayout.JAVA_INT, header + LinuxNet.MSG_NAMELEN)) < 0)
            {
                failed++;
                failedBytes += length;
            }
        }
        if (failed > 0 && txReceiver != null)
        {
            txReceiver.onSendFailed(from, failed, failedBytes);
        }
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        LinuxNet.close(epfd);
        LinuxNet.close(wakeFd);
        arena.close();
    }
}
