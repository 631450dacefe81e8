package io.tandem.media.relay;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.function.IntFunction;

/**
 * The Linux system calls behind the batched transports (epoll, recvmmsg, sendmmsg, sendto, eventfd), called
 * through the Foreign Function and Memory API, and the layouts of the structures they take (x86-64 and
 * AArch64, LP64). The calls made per packet are "critical" downcalls: they never block (sockets are
 * non-blocking and every receive passes {@code MSG_DONTWAIT}), so they skip the JVM's thread-state switch.
 */
public final class LinuxNet
{
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLET = 1 << 31;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int MSG_DONTWAIT = 0x40;
    private static final int SOL_IP = 0;
    private static final int IP_FREEBIND = 15;
    private static final int SOL_IPV6 = 41;
    private static final int IPV6_FREEBIND = 78;
    private static final int CLOEXEC = 0x80000;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVBUF = 8;
    private static final int IP_TOS = 1;
    private static final int IPV6_TCLASS = 67;
    private static final int IP_MULTICAST_ALL = 49;
    private static final int IPV6_MULTICAST_ALL = 29;
    private static final int EACCES = 13;
    private static final int EADDRINUSE = 98;
    private static final int EADDRNOTAVAIL = 99;
    private static final int EFD_NONBLOCK = 0x800;

    /** struct iovec. */
    public static final long IOVEC_SIZE = 16;
    /** struct mmsghdr: a struct msghdr (56 bytes) and the received length. */
    public static final long MMSGHDR_SIZE = 64;
    public static final long MSG_NAME = 0;
    public static final long MSG_NAMELEN = 8;
    public static final long MSG_IOV = 16;
    public static final long MSG_IOVLEN = 24;
    public static final long MSG_CONTROL = 32;
    public static final long MSG_CONTROLLEN = 40;
    public static final long MSG_LEN = 56;
    /** Room for a struct sockaddr_in6 (28 bytes), the larger of the two address families. */
    public static final int SOCKADDR_SIZE = 32;
    /** struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16 bytes). */
    public static final long EPOLL_EVENT_SIZE;
    public static final long EPOLL_EVENT_DATA;

    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle EPOLL_CREATE1;
    private static final MethodHandle EPOLL_CTL;
    private static final MethodHandle EPOLL_WAIT_NOW;
    private static final MethodHandle EPOLL_WAIT;
    private static final MethodHandle RECVMMSG;
    private static final MethodHandle SENDTO;
    private static final MethodHandle SENDMMSG;
    private static final MethodHandle EVENTFD;
    private static final MethodHandle SETSOCKOPT;
    private static final MethodHandle SOCKET;
    private static final MethodHandle BIND;
    private static final MethodHandle READ;
    private static final MethodHandle WRITE;
    private static final MethodHandle CLOSE;
    private static final MethodHandle FD_OF_CHANNEL;

    static
    {
        final String arch = System.getProperty("os.arch");
        final boolean packed = arch.equals("amd64") || arch.equals("x86_64");
        EPOLL_EVENT_SIZE = packed ? 12 : 16;
        EPOLL_EVENT_DATA = packed ? 4 : 8;

        final ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        final ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        final java.lang.foreign.AddressLayout p = ValueLayout.ADDRESS;
        final Linker.Option errno = Linker.Option.captureCallState("errno");
        final Linker.Option critical = Linker.Option.critical(false);
        EPOLL_CREATE1 = downcall("epoll_create1", FunctionDescriptor.of(i, i), errno);
        EPOLL_CTL = downcall("epoll_ctl", FunctionDescriptor.of(i, i, i, i, p), errno);
        EPOLL_WAIT_NOW = downcall("epoll_wait", FunctionDescriptor.of(i, i, p, i, i), critical);
        EPOLL_WAIT = downcall("epoll_wait", FunctionDescriptor.of(i, i, p, i, i));
        RECVMMSG = downcall("recvmmsg", FunctionDescriptor.of(i, i, p, i, i, p), critical);
        SENDTO = downcall("sendto", FunctionDescriptor.of(l, i, l, l, i, p, i), critical);
        SENDMMSG = downcall("sendmmsg", FunctionDescriptor.of(i, i, p, i, i), critical);
        EVENTFD = downcall("eventfd", FunctionDescriptor.of(i, i, i), errno);
        SETSOCKOPT = downcall("setsockopt", FunctionDescriptor.of(i, i, i, i, p, i), errno);
        SOCKET = downcall("socket", FunctionDescriptor.of(i, i, i, i), errno);
        BIND = downcall("bind", FunctionDescriptor.of(i, i, p, i), errno);
        READ = downcall("read", FunctionDescriptor.of(l, i, p, l));
        WRITE = downcall("write", FunctionDescriptor.of(l, i, p, l));
        CLOSE = downcall("close", FunctionDescriptor.of(i, i));
        MethodHandle fdOfChannel = null;
        try
        {
            // Needs --add-exports=java.base/sun.nio.ch=ALL-UNNAMED, which Tandem's JVM flags carry.
            final Class<?> selChImpl = Class.forName("sun.nio.ch.SelChImpl");
            fdOfChannel = MethodHandles.lookup().findVirtual(selChImpl, "getFDVal", MethodType.methodType(int.class));
        }
        catch (final ReflectiveOperationException | IllegalAccessError | SecurityException ex)
        {
            fdOfChannel = null;
        }
        FD_OF_CHANNEL = fdOfChannel;
    }

    private LinuxNet()
    {
    }

    private static MethodHandle downcall(final String name, final FunctionDescriptor descriptor, final Linker.Option... options)
    {
        final Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }

    /** True when a channel's file descriptor can be reached (the JVM flags export {@code sun.nio.ch}). */
    public static boolean available()
    {
        return FD_OF_CHANNEL != null;
    }

    /** The file descriptor behind a NIO datagram channel. */
    public static int fd(final DatagramChannel channel)
    {
        if (FD_OF_CHANNEL == null)
        {
            throw new IllegalStateException("channel file descriptors need --add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
        }
        try
        {
            return (int)FD_OF_CHANNEL.invoke(channel);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("cannot read the channel's file descriptor", ex);
        }
    }

    public static int epollCreate() throws IOException
    {
        return checked("epoll_create1", (arena, state) -> (int)EPOLL_CREATE1.invokeExact(state, CLOEXEC));
    }

    /** Add ({@link #EPOLL_CTL_ADD}) or remove ({@link #EPOLL_CTL_DEL}) {@code fd} for {@code events}, tagged with {@code fd}. */
    public static void epollCtl(final int epfd, final int op, final int fd, final int events) throws IOException
    {
        checked("epoll_ctl", (arena, state) ->
        {
            final MemorySegment event = arena.allocate(16);
            event.set(ValueLayout.JAVA_INT, 0, events);
            event.set(ValueLayout.JAVA_LONG_UNALIGNED, EPOLL_EVENT_DATA, fd);
            return (int)EPOLL_CTL.invokeExact(state, epfd, op, fd, event);
        });
    }

    /** Ready events into {@code events}, waiting up to {@code timeoutMs} (0: not at all). @return how many, or -1. */
    public static int epollWait(final int epfd, final MemorySegment events, final int maxEvents, final int timeoutMs)
    {
        try
        {
            return timeoutMs == 0 ?
                (int)EPOLL_WAIT_NOW.invokeExact(epfd, events, maxEvents, 0) :
                (int)EPOLL_WAIT.invokeExact(epfd, events, maxEvents, timeoutMs);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** The file descriptor an epoll event was registered with. */
    public static int eventFd(final MemorySegment events, final int index)
    {
        return (int)events.get(ValueLayout.JAVA_LONG_UNALIGNED, index * EPOLL_EVENT_SIZE + EPOLL_EVENT_DATA);
    }

    /** Receive up to {@code count} datagrams without waiting. @return how many, or -1 (nothing ready or an error). */
    public static int recvmmsg(final int fd, final MemorySegment vector, final int count)
    {
        try
        {
            return (int)RECVMMSG.invokeExact(fd, vector, count, MSG_DONTWAIT, MemorySegment.NULL);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Send the first {@code count} messages of {@code vector} (mmsghdr). @return how many were sent, or -1. */
    public static int sendmmsg(final int fd, final MemorySegment vector, final int count)
    {
        try
        {
            return (int)SENDMMSG.invokeExact(fd, vector, count, MSG_DONTWAIT);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Send {@code length} bytes at native address {@code address} to {@code sockaddr}. @return bytes sent or -1. */
    public static long sendto(final int fd, final long address, final long length, final MemorySegment sockaddr, final int sockaddrLength)
    {
        try
        {
            return (long)SENDTO.invokeExact(fd, address, length, MSG_DONTWAIT, sockaddr, sockaddrLength);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * Let a socket bind to an address this host does not have (yet): the per-socket form of
     * {@code net.ipv4.ip_nonlocal_bind}, so a hot standby can open its sockets on a virtual IP before keepalived
     * moves it here. Call before {@code bind}.
     */
    public static void freebind(final DatagramChannel channel, final boolean ipv6) throws IOException
    {
        setsockopt(channel, ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_FREEBIND : IP_FREEBIND, 1);
    }

    /** {@code setsockopt(2)} of an int option, for the options Java's socket API does not have. */
    public static void setsockopt(final DatagramChannel channel, final int level, final int name, final int value)
        throws IOException
    {
        setsockopt(fd(channel), level, name, value);
    }

    /**
     * A media socket in as few system calls as the kernel allows: a non-blocking UDP socket (close-on-exec) with a
     * 256 KiB receive buffer, the TOS byte (an IPv6 socket's traffic class), IP_FREEBIND when asked, no multicast
     * joined by others when on the wildcard, bound to {@code address} (null: the IPv4 wildcard) and {@code port}. No
     * address reuse. @return its descriptor
     */
    public static int openUdp(final InetAddress address, final int port, final int tos, final boolean freebind)
        throws IOException
    {
        final boolean ipv6 = address instanceof Inet6Address;
        final int fd = checked("socket", (arena, state) ->
            (int)SOCKET.invokeExact(state, ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | CLOEXEC, 0));
        try
        {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 256 * 1024);
            if (freebind)
            {
                setsockopt(fd, ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_FREEBIND : IP_FREEBIND, 1);
            }
            if (tos != 0)
            {
                setsockopt(fd, ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_TCLASS : IP_TOS, tos);
            }
            if (address == null || address.isAnyLocalAddress())
            {
                // as the JDK does for every datagram socket: a wildcard socket gets no multicast another joined
                setsockopt(fd, ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_MULTICAST_ALL : IP_MULTICAST_ALL, 0);
            }
            bind(fd, new InetSocketAddress(address == null ? InetAddress.getByAddress(new byte[4]) : address, port));
            return fd;
        }
        catch (final IOException | RuntimeException ex)
        {
            close(fd);
            throw ex;
        }
    }

    private static void bind(final int fd, final InetSocketAddress address) throws IOException
    {
        checked((arena, state) ->
        {
            final MemorySegment sockaddr = arena.allocate(SOCKADDR_SIZE, 8);
            final int length = writeSockaddr(sockaddr, address);
            return (int)BIND.invokeExact(state, fd, sockaddr, length);
        }, (errno) -> switch (errno)
        {
            // the messages the JDK gives for these, which callers and operators already know
            case EADDRINUSE -> new java.net.BindException("Address already in use");
            case EADDRNOTAVAIL -> new java.net.BindException("Cannot assign requested address");
            case EACCES -> new java.net.BindException("Permission denied");
            default -> new IOException("bind " + address + " failed: errno " + errno);
        });
    }

    private static void setsockopt(final int fd, final int level, final int name, final int value) throws IOException
    {
        checked("setsockopt(" + level + ", " + name + ")", (arena, state) ->
        {
            final MemorySegment option = arena.allocate(ValueLayout.JAVA_INT);
            option.set(ValueLayout.JAVA_INT, 0, value);
            return (int)SETSOCKOPT.invokeExact(state, fd, level, name, option, 4);
        });
    }

    /** A non-blocking eventfd, to wake an {@code epoll_wait} from another thread. */
    public static int eventfd() throws IOException
    {
        return checked("eventfd", (arena, state) -> (int)EVENTFD.invokeExact(state, 0, EFD_NONBLOCK | CLOEXEC));
    }

    /** {@code read(2)} into an 8-byte (or larger) segment, as an eventfd is drained. */
    public static long read(final int fd, final MemorySegment into)
    {
        try
        {
            return (long)READ.invokeExact(fd, into, into.byteSize());
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** {@code write(2)} of a whole segment, as an eventfd is signalled. */
    public static long write(final int fd, final MemorySegment from)
    {
        try
        {
            return (long)WRITE.invokeExact(fd, from, from.byteSize());
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    public static void close(final int fd)
    {
        if (fd < 0)
        {
            return;
        }
        try
        {
            final int ignored = (int)CLOSE.invokeExact(fd);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** A control-path system call whose errno is captured into {@code state}; {@code arena} holds its arguments. */
    @FunctionalInterface
    private interface ErrnoCall
    {
        int invoke(java.lang.foreign.Arena arena, MemorySegment state) throws Throwable;
    }

    /** Make {@code call}: its result, or an IOException naming it and its errno when it returns a negative value. */
    private static int checked(final String name, final ErrnoCall call) throws IOException
    {
        return checked(call, (errno) -> new IOException(name + " failed: errno " + errno));
    }

    /** Make {@code call}: its result, or the exception {@code failure} makes of its errno when it returns a negative value. */
    private static int checked(final ErrnoCall call, final IntFunction<IOException> failure) throws IOException
    {
        final int result;
        final int errno;
        try (var arena = java.lang.foreign.Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CAPTURE);
            result = call.invoke(arena, state);
            errno = (int)ERRNO.get(state, 0L);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException(ex);
        }
        if (result < 0)
        {
            throw failure.apply(errno);
        }
        return result;
    }

    /** Write {@code address} as a struct sockaddr_in or sockaddr_in6 at {@code at}. @return its length. */
    public static int writeSockaddr(final MemorySegment at, final InetSocketAddress address)
    {
        final InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address)
        {
            writeSockaddr4(at, ipv4(ip), address.getPort());
            return 16;
        }
        final byte[] bytes = ip.getAddress();
        at.set(ValueLayout.JAVA_SHORT, 0, (short)AF_INET6);
        at.set(BE_SHORT, 2, (short)address.getPort());
        at.set(ValueLayout.JAVA_INT, 4, 0);
        MemorySegment.copy(bytes, 0, at, ValueLayout.JAVA_BYTE, 8, 16);
        at.set(ValueLayout.JAVA_INT, 24, ((Inet6Address)ip).getScopeId());
        return 28;
    }

    /** Write an IPv4 struct sockaddr_in (address and port in host order) at {@code at}. */
    public static void writeSockaddr4(final MemorySegment at, final int address, final int port)
    {
        at.set(ValueLayout.JAVA_SHORT, 0, (short)AF_INET);
        at.set(BE_SHORT, 2, (short)port);
        at.set(BE_INT, 4, address);
        at.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 0L);
    }

    /** An IPv4 address as an int in host order. */
    public static int ipv4(final InetAddress address)
    {
        final byte[] b = address.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    /** The family of the socket address at {@code offset} in {@code at}. */
    public static int family(final MemorySegment at, final long offset)
    {
        return at.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset);
    }

    /** The port of the socket address at {@code offset} (either family). */
    public static int port(final MemorySegment at, final long offset)
    {
        return at.get(BE_SHORT, offset + 2) & 0xffff;
    }

    /** The IPv4 address (host order) of the sockaddr_in at {@code offset}. */
    public static int address4(final MemorySegment at, final long offset)
    {
        return at.get(BE_INT, offset + 4);
    }

    /** The first ({@code half} 0) or second half of the IPv6 address of the sockaddr_in6 at {@code offset}. */
    public static long address6(final MemorySegment at, final long offset, final int half)
    {
        return at.get(BE_LONG, offset + 8 + 8L * half);
    }

    public static int scope6(final MemorySegment at, final long offset)
    {
        return at.get(ValueLayout.JAVA_INT_UNALIGNED, offset + 24);
    }

    /** Decode the socket address at {@code offset} into a Java address (allocates: call it when the source changed). */
    public static InetSocketAddress readSockaddr(final MemorySegment at, final long offset)
    {
        try
        {
            if (family(at, offset) == AF_INET)
            {
                final int a = address4(at, offset);
                return new InetSocketAddress(InetAddress.getByAddress(
                    new byte[] {(byte)(a >>> 24), (byte)(a >>> 16), (byte)(a >>> 8), (byte)a}), port(at, offset));
            }
            final byte[] bytes = at.asSlice(offset + 8, 16).toArray(ValueLayout.JAVA_BYTE);
            final int scope = scope6(at, offset);
            final InetAddress ip = scope == 0 ? InetAddress.getByAddress(bytes) : Inet6Address.getByAddress(null, bytes, scope);
            return new InetSocketAddress(ip, port(at, offset));
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex); // cannot happen for a 4- or 16-byte address
        }
    }
}
