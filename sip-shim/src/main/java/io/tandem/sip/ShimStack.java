package io.tandem.sip;

import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import javax.sip.SipFactory;
import javax.sip.SipStack;

/**
 * The jain-sip stack of one proxy, made with the shim's settings, and stopped so that nothing of it stays: jain-sip's
 * own stop leaves the stack's event thread waiting for an event forever, holding the whole stopped stack (a warm-up
 * proxy, a test's proxies, each left one).
 */
final class ShimStack
{
    private static final AtomicLong STACKS = new AtomicLong();
    /** The SIP socket's buffers: a 4 MiB receive buffer holds about 0.3 s at 1,000 calls/s. */
    private static final int UDP_RECEIVE_BUFFER = 4 << 20;
    private static final int UDP_SEND_BUFFER = 1 << 20;

    private final SipStack stack;
    private final Thread eventScanner;

    ShimStack(final SipFactory factory, final SipContext ctx) throws Exception
    {
        final Properties properties = properties(ctx);
        synchronized (STACKS)
        {
            final Set<Thread> before = scanners();
            stack = factory.createSipStack(properties);
            eventScanner = scanners().stream().filter((t) -> !before.contains(t)).findFirst().orElse(null);
        }
    }

    SipStack stack()
    {
        return stack;
    }

    void stop()
    {
        stack.stop();
        if (eventScanner != null)
        {
            eventScanner.interrupt(); // stopped by now, so its wait's end ends it
        }
    }

    private static Properties properties(final SipContext ctx)
    {
        final Properties properties = new Properties();
        // A name of its own: jain-sip's factory hands back an existing stack of the same name, even a stopped one
        properties.setProperty("javax.sip.STACK_NAME",
            "tandem-sip-" + ctx.listenAddress().getPort() + "-" + STACKS.incrementAndGet());
        properties.setProperty("javax.sip.ROUTER_PATH", NextHopRouter.class.getName());
        properties.setProperty("javax.sip.AUTOMATIC_DIALOG_SUPPORT", "off");
        properties.setProperty("gov.nist.javax.sip.STACK_LOGGER", SipLog.class.getName());
        properties.setProperty("gov.nist.javax.sip.SERVER_LOGGER", SipLog.Messages.class.getName());
        properties.setProperty("gov.nist.javax.sip.REENTRANT_LISTENER", "true");
        properties.setProperty("gov.nist.javax.sip.THREAD_POOL_SIZE", Integer.toString(ctx.threads()));
        properties.setProperty("gov.nist.javax.sip.TRACE_LEVEL", "0");
        properties.setProperty("gov.nist.javax.sip.LOG_MESSAGE_CONTENT", "false");
        // jain-sip asks for a 64 KiB UDP receive buffer, a third of Linux's default: at 1,000 calls/s (14,000
        // datagrams a second) a pause of a few ms overflowed it, and the retransmissions failed 1.2% of the calls.
        // The kernel caps the request at net.core.rmem_max (tuning/sysctl.d raises it).
        properties.setProperty("gov.nist.javax.sip.RECEIVE_UDP_BUFFER_SIZE", Integer.toString(UDP_RECEIVE_BUFFER));
        properties.setProperty("gov.nist.javax.sip.SEND_UDP_BUFFER_SIZE", Integer.toString(UDP_SEND_BUFFER));
        // A transaction lingers after its final response (a BYE's server transaction 32 s, RFC 3261 timer J), and
        // jain-sip keeps its request and response parsed all that time: at 1,000 calls/s over a GiB of live headers,
        // a third of the shim's CPU in collections. Aggressive keeps a completed transaction's messages as bytes and
        // parses one again only when asked (measured: 593-604 -> 413 us of CPU per call).
        properties.setProperty("gov.nist.javax.sip.RELEASE_REFERENCES_STRATEGY", "Aggressive");
        // jain-sip's own tuning knobs, given to the JVM (TANDEM_JAVA_OPTS="-Dgov.nist.javax.sip.X=Y"), win over these
        for (final String name : System.getProperties().stringPropertyNames())
        {
            if (name.startsWith("gov.nist.javax.sip."))
            {
                properties.setProperty(name, System.getProperty(name));
            }
        }
        return properties;
    }

    /** jain-sip's event threads now in this JVM (one per stack, started by its constructor). */
    private static Set<Thread> scanners()
    {
        return Thread.getAllStackTraces().keySet().stream().filter((t) -> t.getName().equals("EventScannerThread"))
            .collect(Collectors.toSet());
    }
}
