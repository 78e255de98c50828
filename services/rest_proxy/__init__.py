"""A Kafka REST proxy speaking the Confluent v2 produce wire format."""
