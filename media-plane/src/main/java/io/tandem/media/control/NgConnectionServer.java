package io.tandem.media.control;

import java.net.InetSocketAddress;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.ConnectionListener;

/**
 * The ng listeners over connections (TCP, WebSocket): the shared {@link ConnectionListener} with the ng access list,
 * the ng context's limits and the media plane's counters.
 */
abstract class NgConnectionServer extends ConnectionListener
{
    protected final NgContext ctx;
    protected final NgCommands commands;
    protected final MediaCounters counters;

    NgConnectionServer(
        final NgContext ctx,
        final NgCommands commands,
        final MediaCounters counters,
        final InetSocketAddress listen,
        final String name)
    {
        super(listen, name, limits(ctx), ctx::allows, events(counters));
        this.ctx = ctx;
        this.commands = commands;
        this.counters = counters;
    }

    static Limits limits(final NgContext ctx)
    {
        return new Limits(ctx.maxConnections(), ctx.partialMessageTimeoutMs(), ctx.httpIdleTimeoutMs());
    }

    /** The listeners' events, counted where tandem-stat and /metrics show them. */
    static Events events(final MediaCounters counters)
    {
        return new Events()
        {
            @Override
            public void sourceRefused()
            {
                counters.ngSourceRefused.increment();
            }

            @Override
            public void connectionRefused()
            {
                counters.ngConnectionsRefused.increment();
            }

            @Override
            public void timedOut()
            {
                counters.ngConnectionsTimedOut.increment();
            }

            @Override
            public void malformed()
            {
                counters.ngMalformed.increment();
            }
        };
    }
}
