"""This project's own config module: the name `config` must not collide with anything in llmplatform."""
from llmplatform import NetworkSpec

REGION = "northeurope"
NAME = "team-a"
NETWORK: NetworkSpec = {"vnet_cidr": "10.60.0.0/16", "node_subnet_cidr": "10.60.0.0/20", "endpoints_subnet_cidr": "10.60.16.0/24",
           "postgres_subnet_cidr": "10.60.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}
