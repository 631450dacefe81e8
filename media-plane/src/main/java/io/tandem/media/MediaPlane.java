package io.tandem.media;

import java.io.File;

import io.tandem.media.relay.Endpoint;
import io.tandem.media.relay.ForwardingAgent;
import io.tandem.media.relay.Transport;
import io.tandem.media.session.CallRegistry;
import io.tandem.media.session.SessionStore;
import io.tandem.media.stats.MediaCounters;

import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;

/**
 * One media node's lifecycle and wiring: the counters file, the sessions table, the relay's forwarding agent on
 * its own thread, the {@link CallRegistry} that owns the calls, and the housekeeper that ends timed-out calls.
 * Starting one restores every call the sessions file holds; closing it stops relaying and leaves the calls in the
 * file for the next start. What commands do to calls is the registry's business.
 */
public final class MediaPlane implements AutoCloseable
{
    private final MediaContext ctx;
    private final MediaCounters counters;
    private final SessionStore store;
    private final Transport transport;
    private final ForwardingAgent agent;
    private final AgentRunner runner;
    private final CallRegistry registry;
    private final AgentRunner housekeeper;
    private final StartReport startReport;
    private boolean closed;

    public MediaPlane(final MediaContext ctx)
    {
        this.ctx = ctx.isConcluded() ? ctx : ctx.conclude();
        counters = new MediaCounters(this.ctx.countersFile());
        final long openingNs = System.nanoTime();
        store = new SessionStore(this.ctx.sessionsFile(), this.ctx.maxCalls());
        final long openedNs = System.nanoTime();
        final OneToOneConcurrentArrayQueue<Long> timedOut = new OneToOneConcurrentArrayQueue<>(65536);
        final OneToOneConcurrentArrayQueue<Endpoint> latched = new OneToOneConcurrentArrayQueue<>(65536);
        transport = this.ctx.newTransport(ForwardingAgent.MAX_PACKET);
        agent = new ForwardingAgent(transport, counters, SystemNanoClock.INSTANCE, this.ctx.learningWindowNs(),
            this.ctx.timeoutNs(), this.ctx.silentTimeoutNs(), timedOut, this.ctx.forwarderCpu(), this.ctx.blockingIdle())
            .latchReports(latched).sleepWhenQuietFor(this.ctx.sleepWhenQuietNs());
        runner = new AgentRunner(this.ctx.idleStrategy(), MediaPlane::logError, null, agent);
        AgentRunner.startOnThread(runner);
        registry = new CallRegistry(new CallRegistry.Settings(this.ctx.interfaceSpecs(), this.ctx.latchMode(),
            this.ctx.finalTimeoutNs(), this.ctx.tos(), this.ctx.freebind(), this.ctx.sessionsFile() + ".aside"),
            counters, store, agent, timedOut, latched);
        registry.restoreCalls();
        startReport = new StartReport(registry.callCount(), (int)counters.callsAside.get(),
            (openedNs - openingNs) / 1_000_000, (System.nanoTime() - openedNs) / 1_000_000);
        housekeeper = new AgentRunner(new SleepingMillisIdleStrategy(100), MediaPlane::logError, null, new Agent()
        {
            public int doWork()
            {
                return registry.housekeeping();
            }

            public String roleName()
            {
                return "tandem-housekeeper";
            }
        });
        AgentRunner.startOnThread(housekeeper);
    }

    private static void logError(final Throwable ex)
    {
        System.err.println("tandem-forwarder: " + ex);
    }

    public MediaContext context()
    {
        return ctx;
    }

    /** The calls: what ng commands, the housekeeper and the restore act on. */
    public CallRegistry registry()
    {
        return registry;
    }

    public MediaCounters counters()
    {
        return counters;
    }

    /**
     * What this media plane's start found in the sessions file.
     * @param restored calls relaying again
     * @param aside calls kept aside (this start's and earlier ones')
     * @param openMs time to open (or recover) the sessions file
     * @param restoreMs time from then until every restored call was handed to the relay
     */
    public record StartReport(int restored, int aside, long openMs, long restoreMs)
    {
    }

    public StartReport startReport()
    {
        return startReport;
    }

    /** The kernel's id of the forwarding agent's thread. */
    int forwarderNativeThreadId()
    {
        return agent.nativeThreadId();
    }

    /** Whether the forwarding agent waits in the kernel after a quiet spell. */
    boolean forwarderSleeping()
    {
        return agent.isSleeping();
    }

    /** The forwarding agent's thread, for tests and tools that measure it. */
    Thread forwarderThread()
    {
        return runner.thread();
    }

    /** The sessions file. */
    public File sessionsFile()
    {
        return ctx.sessionsFile();
    }

    /** Stop relaying and close every socket. Calls stay in the sessions file: a new media plane resumes them. */
    @Override
    public void close()
    {
        CloseHelper.quietClose(housekeeper); // first: it takes the registry's lock
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            registry.close(); // needs the agent running to take the endpoints back
            CloseHelper.quietCloseAll(runner, transport);
            store.close();
            counters.close();
        }
    }
}
