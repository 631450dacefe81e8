package io.tandem.media.relay;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;

/**
 * The relay's sockets: a media socket bound on an interface address and port, with the options every media socket
 * of Tandem has (a 256 KiB receive buffer, the TOS byte, IP_FREEBIND for a standby on a virtual IP). No address
 * reuse: a port another process holds, another Tandem on the same host included, is refused, never shared.
 */
public final class MediaSockets
{
    private MediaSockets()
    {
    }

    /** A non-blocking UDP socket bound to {@code address}:{@code port}. */
    public static DatagramChannel open(final InetAddress address, final int port, final int tos, final boolean freebind)
        throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(
            address instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try
        {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 256 * 1024);
            if (freebind)
            {
                LinuxNet.freebind(channel, address instanceof Inet6Address);
            }
            if (tos != 0)
            {
                channel.setOption(StandardSocketOptions.IP_TOS, tos); // also the traffic class of an IPv6 socket
            }
            channel.bind(new InetSocketAddress(address, port));
            channel.configureBlocking(false);
            return channel;
        }
        catch (final IOException ex)
        {
            channel.close();
            throw ex;
        }
    }
}
