package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import javax.sip.SipFactory;
import javax.sip.address.AddressFactory;
import javax.sip.address.Hop;

import org.junit.jupiter.api.Test;

/**
 * The routing file as an operator writes it: the first matching rule decides, user prefixes and domain suffixes
 * match as documented, destinations keep their order and transport; and each mistake is refused naming its line.
 */
class RouteTableTest
{
    private static final String FILE = """
        # carrier routing: international via two trunks, the rest by domain
        route 0044*@*                 10.1.0.5:5060 10.1.0.6:5060;tcp
        route 112@*                   10.9.0.1:5060
        route *@carrier.example.com   10.0.0.9:5060;udp
        route *@*.example.org         10.0.0.20:5080   # any subdomain
        route *                       10.0.0.99:5060
        """;

    private static List<String> destinations(final RouteTable table, final String uri) throws Exception
    {
        final AddressFactory addresses = SipFactory.getInstance().createAddressFactory();
        return table.destinations(addresses.createURI(uri)).stream().map(Routes::text).toList();
    }

    @Test
    void theFirstMatchingRuleDecidesAndItsDestinationsKeepTheirOrder() throws Exception
    {
        final RouteTable table = RouteTable.parse(FILE, "routes.conf");
        assertEquals(List.of("10.1.0.5:5060;udp", "10.1.0.6:5060;tcp"), destinations(table,
            "sip:00442071234567@carrier.example.com"), "the prefix rule comes first");
        assertEquals(List.of("10.9.0.1:5060;udp"), destinations(table, "sip:112@pbx.local"), "an exact user");
        assertEquals(List.of("10.0.0.9:5060;udp"), destinations(table, "sip:1120@Carrier.Example.COM"),
            "not the exact user; the domain whatever its case");
        assertEquals(List.of("10.0.0.20:5080;udp"), destinations(table, "sip:alice@eu.example.org"));
        assertEquals(List.of("10.0.0.99:5060;udp"), destinations(table, "sip:alice@example.org"),
            "*.example.org is a subdomain, not the domain itself");
        assertEquals(List.of("10.0.0.99:5060;udp"), destinations(table, "tel:+4420712345"), "not SIP: the catch-all");
    }

    @Test
    void withoutACatchAllAnUnmatchedRequestHasNoDestination() throws Exception
    {
        final RouteTable table = RouteTable.parse("route *@carrier.example.com 10.0.0.9:5060\n", "r");
        assertEquals(List.of(), destinations(table, "sip:bob@elsewhere.example.com"));
    }

    @Test
    void theOneDestinationOfRouteIsATableOfOneRule() throws Exception
    {
        final Hop hop = RouteTable.single("127.0.0.1:5090;tcp").destinations(
            SipFactory.getInstance().createAddressFactory().createURI("sip:x@y")).get(0);
        assertEquals("127.0.0.1:5090;tcp", Routes.text(hop));
    }

    @Test
    void eachMistakeIsRefusedNamingItsLine()
    {
        assertRefused("routes.conf:1: a rule starts with 'route'", "rout * 10.0.0.1:5060");
        assertRefused("routes.conf:2: 'route PATTERN DESTINATION...' needs", "# header\nroute *");
        assertRefused("is not USER@DOMAIN", "route 0044 10.0.0.1:5060");
        assertRefused("is not USER@DOMAIN", "route a@b@c 10.0.0.1:5060");
        assertRefused("'*' ends a user prefix", "route 00*44@* 10.0.0.1:5060");
        assertRefused("'*' ends a user prefix", "route *@ex*ample.com 10.0.0.1:5060");
        assertRefused("'*' ends a user prefix", "route *@*. 10.0.0.1:5060");
        assertRefused("transport 'sctp' is not udp or tcp", "route * 10.0.0.1:5060;sctp");
        assertRefused("must be HOST:PORT", "route * 10.0.0.1");
        assertRefused("no valid port", "route * 10.0.0.1:70000");
        assertRefused("no 'route' rule", "# nothing\n\n");
    }

    @Test
    void theShippedExampleIsOneTheShimAccepts() throws Exception
    {
        final RouteTable table = RouteTable.read(Path.of("../tuning/sip-routes.conf"));
        assertTrue(table.rules().size() >= 3);
        assertTrue(table.rules().get(0).destinations().size() >= 2, "the example shows alternates");
    }

    private static void assertRefused(final String reason, final String text)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> RouteTable.parse(text, "routes.conf"));
        assertTrue(ex.getMessage().contains(reason), ex.getMessage());
    }
}
