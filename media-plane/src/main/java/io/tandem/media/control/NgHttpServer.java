package io.tandem.media.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.tandem.media.stats.MediaCounters;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tandem.ng.NgDatagram;

/**
 * Tandem's HTTP interface, at the URIs rtpengine uses: {@code POST /ng} takes an ng message in the datagram
 * format (cookie, space, bencode or JSON dictionary) and answers in the same format; {@code GET /metrics} gives
 * the counters in Prometheus' text format; {@code GET /ping} answers {@code pong}. {@code /ng} is answered only
 * for sources in the ng access list (others get 403 and are counted); the other two for anyone who can reach the
 * listen address. One virtual thread per request: control traffic, never on the packet path.
 */
public final class NgHttpServer implements AutoCloseable
{
    public static final String NG_CONTENT_TYPE = "application/x-rtpengine-ng";

    private final NgContext ctx;
    private final NgCommands commands;
    private final MediaCounters counters;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    public NgHttpServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters)
    {
        this.ctx = ctx;
        this.commands = commands;
        this.counters = counters;
        try
        {
            server = HttpServer.create(ctx.listenHttpAddress(), 64);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot listen for HTTP on " + ctx.listenHttpAddress() + ": " + ex.getMessage(), ex);
        }
        server.setExecutor(executor);
        server.createContext("/ng", this::ng);
        server.createContext("/metrics", (exchange) -> get(exchange, "text/plain; version=0.0.4; charset=utf-8",
            counters.prometheusText()));
        server.createContext("/ping", (exchange) -> get(exchange, "text/plain", "pong"));
        server.start();
    }

    public InetSocketAddress localAddress()
    {
        return server.getAddress();
    }

    private void ng(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            if (!ctx.allows(exchange.getRemoteAddress().getAddress()))
            {
                counters.ngSourceRefused.increment();
                respond(exchange, 403, "text/plain", "source not allowed\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!"POST".equals(exchange.getRequestMethod()) || !exchange.getRequestURI().getPath().equals("/ng"))
            {
                respond(exchange, exchange.getRequestURI().getPath().equals("/ng") ? 405 : 404, "text/plain",
                    "POST an ng message to /ng\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            final byte[] body;
            try (InputStream in = exchange.getRequestBody())
            {
                body = in.readNBytes(NgServer.MAX_MESSAGE + 1);
            }
            final int space = NgDatagram.cookieEnd(body, body.length);
            if (space <= 0)
            {
                counters.ngMalformed.increment();
                respond(exchange, 400, "text/plain", "an ng message is a cookie, a space and a dictionary\n"
                    .getBytes(StandardCharsets.UTF_8));
                return;
            }
            final String cookie = new String(body, 0, space, StandardCharsets.ISO_8859_1);
            respond(exchange, 200, NG_CONTENT_TYPE,
                NgMessage.reply(commands, counters, cookie, body, space + 1, body.length > NgServer.MAX_MESSAGE));
        }
    }

    private static void get(final HttpExchange exchange, final String contentType, final String text) throws IOException
    {
        try (exchange)
        {
            final String path = exchange.getRequestURI().getPath();
            if (!path.equals(exchange.getHttpContext().getPath()))
            {
                respond(exchange, 404, "text/plain", "not found\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod()))
            {
                respond(exchange, 405, "text/plain", "GET only\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            respond(exchange, 200, contentType, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void respond(final HttpExchange exchange, final int status, final String contentType, final byte[] body)
        throws IOException
    {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if ("HEAD".equals(exchange.getRequestMethod()))
        {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }
}
