package io.tandem.bench;

import java.util.concurrent.CountDownLatch;

import io.tandem.media.relay.Bpf;
import io.tandem.media.relay.XdpFastPath;

/**
 * {@code XdpAttach IFACE}: Tandem's XDP program, with no entries (it passes every packet up), attached to an
 * interface in native mode until the process ends (the kernel detaches it with the link's descriptor). A veth end hands frames a peer sent with {@code XDP_TX} only
 * to a stack that runs XDP itself, so {@code bin/tandem-xdp-compare} puts it on the generator's end, in both runs.
 */
public final class XdpAttach
{
    private XdpAttach()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        try (XdpFastPath ignored = XdpFastPath.attach(args[0], 16, Bpf.XDP_FLAGS_DRV_MODE))
        {
            System.out.println("xdp-attach: on " + args[0]);
            new CountDownLatch(1).await();
        }
    }
}
