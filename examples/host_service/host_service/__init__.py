"""A small library-catalogue service that embeds toolwire under `/agent`."""
