package io.tandem.media;

import java.io.IOException;
import java.net.DatagramPacket;

/** {@link RtpPeer} for tests in other packages. */
public final class RtpPeerAccess implements AutoCloseable
{
    private final RtpPeer peer;

    public RtpPeerAccess(final int ssrc) throws IOException
    {
        peer = new RtpPeer(ssrc);
    }

    public int port()
    {
        return peer.address().getPort();
    }

    public byte[] rtp(final int sequence)
    {
        return peer.rtp(sequence);
    }

    public void send(final byte[] data, final int port) throws IOException
    {
        peer.send(data, port);
    }

    public DatagramPacket receive() throws IOException
    {
        return peer.receive();
    }

    public byte[] data(final DatagramPacket packet)
    {
        if (packet == null)
        {
            throw new AssertionError("no packet arrived");
        }
        return RtpPeer.data(packet);
    }

    @Override
    public void close()
    {
        peer.close();
    }
}
