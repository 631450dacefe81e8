package io.tandem.media.session;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** A logical interface at run time: its bind address and its own port allocator. Control thread only. */
public final class MediaInterface
{
    private final InterfaceSpec spec;
    private final InetAddress bindAddress;
    final PortAllocator ports;

    MediaInterface(final InterfaceSpec spec)
    {
        this.spec = spec;
        try
        {
            bindAddress = InetAddress.getByName(spec.bindAddress());
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("interface " + spec.name() + ": unknown address " + spec.bindAddress());
        }
        ports = new PortAllocator(spec.portMin(), spec.portMax());
    }

    public String name()
    {
        return spec.name();
    }

    public InetAddress bindAddress()
    {
        return bindAddress;
    }

    /** The address to put in SDP for peers of this interface. */
    public String advertisedAddress()
    {
        return spec.advertisedAddress();
    }

    public PortAllocator ports()
    {
        return ports;
    }

    /** The lowest and highest port this interface relays on. */
    public int portMin()
    {
        return spec.portMin();
    }

    public int portMax()
    {
        return spec.portMax();
    }

    @Override
    public String toString()
    {
        return spec.toString();
    }
}
